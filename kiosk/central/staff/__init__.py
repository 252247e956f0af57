"""The staff pages of the central store, and what they stand on.

- `accounts`: staff accounts, scrypt-hashed passwords, throttled logins, the demo account;
- `sessions`: server-side sessions behind an HttpOnly cookie, and CSRF checks;
- `pages`: the FastAPI router mounted at /staff, with Jinja2 templates in `templates/`;
- `export`: approved voices as a BagIt bag (a folder, or a streamed .tar).
"""

from kiosk.central.staff.accounts import ensure_demo_staff

__all__ = ["ensure_demo_staff"]
