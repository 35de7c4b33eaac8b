"""The shipped models, one file each: ``RSPGMacro`` (the paper's), ``KrusellSmith``, ``Aiyagari``,
``Huggett``, ``OneAssetHANK`` and the games ``LinearQuadratic`` and ``BeachBar``.

Installed, this folder is the package ``hank_mfg.models`` (``from hank_mfg.models.hank import
OneAssetHANK``), so that it never shadows a ``models`` package of a researcher's own; from the
repository root it also imports as ``models`` (``from models.hank import OneAssetHANK``), as the
examples, notebooks and tests do.
"""
