"""Reports: the only layer that imports pandas/matplotlib/seaborn and writes files."""
