"""Runtime of Kazerne Dossin's gallery stations, the central store and the command line."""

__version__ = "0.1.0"
