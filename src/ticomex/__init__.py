"""ticomex: Les indicateurs clés : commerce extérieur — Territoires d'industrie."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ticomex")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"
