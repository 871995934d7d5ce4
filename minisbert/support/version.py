"""minisbert's version, as pip installed it (saved models record it)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("minisbert")
except PackageNotFoundError:  # a checkout on sys.path that pip never installed
    __version__ = "0+unknown"
