"""Where the project's own content lives, wherever the package is installed."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "media"
FONTS = MEDIA / "fonts"
CATALOGUES = MEDIA / "i18n"
IMAGES = MEDIA / "images"
