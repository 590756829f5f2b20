"""Tokens and invite codes.

A token is 32 random bytes (URL-safe base64, prefixed ``rt_`` so that a leaked one is easy to
spot); the database keeps only its SHA-256, so a copy of the database gives nobody a way in.
A plain hash is enough because tokens are random, not passwords: there is nothing to guess.
Invite codes are short and readable (``ABCD-EFGH``, no 0/O or 1/I) so they fit on a slide.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "rt_"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_token() -> str:
    """A new random personal token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_invite_code() -> str:
    """A new invite code such as ``K7QM-3XPD``."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def normalise_code(code: str) -> str:
    """An invite code as typed (any case, spaces, missing dash) in its stored form."""
    clean = "".join(c for c in code.upper() if c.isalnum())
    return f"{clean[:4]}-{clean[4:]}" if len(clean) == 8 else clean
