"""Ready-to-use model classes: ``RSPGMacro`` (the paper's), ``KrusellSmith``, ``Aiyagari``."""
