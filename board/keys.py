"""Class codes and teacher keys: both random, made with `secrets`.

A class code goes in the students' link: short, easy to read aloud, and it only lets a student add a run. The
teacher key goes in the teacher's link only: a long random token that reads, clears and downloads the board. The
database keeps a digest of the key, never the key, and the check compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# No 0/O, 1/I/L: a code is read off a projector and typed.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8  # 31**8, about 2**40: far beyond guessing a class among a day's few
KEY_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits


def new_class_code() -> str:
    """A short random class code, e.g. 'K7QM2XHC'."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_teacher_key() -> str:
    """A long random token for the teacher's link."""
    return secrets.token_urlsafe(KEY_BYTES)


def normalize_code(code: object) -> str | None:
    """The code as stored (upper case, no spaces or dashes), or None when it cannot be a class code."""
    if not isinstance(code, str):
        return None
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def key_digest(key: str) -> str:
    """What the database keeps of a teacher key (SHA-256, hex)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def key_matches(given: object, stored_digest: str | None) -> bool:
    """Does `given` open a board whose key digest is `stored_digest`? Constant time; False for no key at all."""
    # Hash something even when no key or no board, so the answer takes the same time either way.
    candidate = key_digest(given if isinstance(given, str) else "")
    ok = hmac.compare_digest(candidate, stored_digest or key_digest(new_teacher_key()))
    return ok and isinstance(given, str) and bool(given) and stored_digest is not None
