"""Editor sign-in: Streamlit's OIDC login (`st.login`) checked against an allow-list kept in secrets.

Reading never needs sign-in. With an `[auth]` section in secrets, editors sign in with the clinic's
identity provider and their e-mail address is their identity. Without one, a single-machine
installation may use a passphrase; its failed attempts are counted on the server per client address,
so reloading the page does not reset the limit. Nothing about a patient is involved or stored here.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from hipguide.exports import md_escape
from hipguide.gitstore import Editor

PASSPHRASE_ENV = "HIPGUIDE_EDITOR_PASSPHRASE"  # noqa: S105 - the variable name, not a secret
MAX_SIGNIN_ATTEMPTS = 5
LOCKOUT_SECONDS = 15 * 60


@dataclass(frozen=True)
class AllowList:
    editors: frozenset[str]
    approvers: frozenset[str]

    def role(self, identity: str) -> str | None:
        who = identity.strip().lower()
        if who in self.approvers:
            return "approver"
        return "editor" if who in self.editors else None


def _secrets() -> Mapping[str, object]:
    """The secrets as they are now, or nothing when there is no secrets file (looked for once per call)."""
    try:
        return st.secrets if st.secrets.load_if_toml_exists() else {}
    except Exception:  # an unreadable secrets file: no secrets, so no sign-in is configured
        return {}


def _secret(name: str, default: object = None, secrets: Mapping[str, object] | None = None) -> object:
    try:
        return (_secrets() if secrets is None else secrets).get(name, default)
    except Exception:  # no secrets file at all: Streamlit raises its own not-found error
        return default


def allow_list(secrets: Mapping[str, object] | None = None) -> AllowList:
    """`[editors]` in secrets: `editors = [...]` and `approvers = [...]` (approvers may edit too)."""
    table = _secret("editors", secrets=secrets) or {}
    get = table.get if hasattr(table, "get") else (lambda _k, _d=None: [])
    editors = frozenset(str(x).strip().lower() for x in get("editors", []) or [] if str(x).strip())
    approvers = frozenset(str(x).strip().lower() for x in get("approvers", []) or [] if str(x).strip())
    return AllowList(editors | approvers, approvers)


def oidc_configured(secrets: Mapping[str, object] | None = None) -> bool:
    auth = _secret("auth", secrets=secrets)
    return bool(auth) and hasattr(auth, "get")


def configured_passphrase(secrets: Mapping[str, object] | None = None) -> str | None:
    value = _secret("editor_passphrase", secrets=secrets)
    return str(value) if value else os.environ.get(PASSPHRASE_ENV) or None


def check_passphrase(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


# --- failed passphrase attempts, on the server ------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _failures() -> tuple[threading.Lock, dict[str, list[float]]]:
    # Client address -> times of recent failed attempts. Shared by all sessions on purpose (a reload or
    # a new tab must not reset it); it holds addresses and times only, never anything about a patient.
    return threading.Lock(), {}


def _client_key() -> str:
    try:
        address = st.context.ip_address
    except Exception:
        address = None
    return address if isinstance(address, str) and address else "local"


def seconds_locked(key: str, now: float | None = None) -> float:
    lock, table = _failures()
    now = time.time() if now is None else now
    with lock:
        recent = [t for t in table.get(key, []) if now - t < LOCKOUT_SECONDS]
        if recent:
            table[key] = recent
        else:
            table.pop(key, None)  # only addresses with recent failures are kept
        if len(recent) < MAX_SIGNIN_ATTEMPTS:
            return 0.0
        return LOCKOUT_SECONDS - (now - recent[0])


def record_failure(key: str) -> None:
    lock, table = _failures()
    with lock:
        table.setdefault(key, []).append(time.time())


def clear_failures(key: str) -> None:
    lock, table = _failures()
    with lock:
        table.pop(key, None)


# --- the panel ----------------------------------------------------------------------------------------

def _signed_in_banner(editor: Editor, how: str, on_sign_out) -> None:
    left, right = st.columns([5, 1])
    role = "approver" if editor.can_approve else "editor"
    left.success(f"Signed in as {role} **{md_escape(editor.display)}** ({md_escape(editor.id)}, {how}). "
                 "Every save is a git commit with you as its author.", icon="✏️")
    if right.button("Sign out", key="signout"):
        on_sign_out()


def signin() -> Editor | None:
    """The signed-in editor, or None (read-only). Explains how to enable editing when it is off."""
    secrets = _secrets()  # read once: without a secrets file, every look-up searches the disk again
    allowed = allow_list(secrets)
    if oidc_configured(secrets):
        return _oidc(allowed)
    expected = configured_passphrase(secrets)
    if expected is None:
        st.info("**Read-only.** Editing is switched off: no sign-in is configured. For editors, configure OIDC sign-in "
                "(`[auth]` and `[editors]` in `.streamlit/secrets.toml`, see the README); on a single machine, an "
                f"`editor_passphrase` in secrets or `{PASSPHRASE_ENV}` will do. Reading needs no sign-in.", icon="🔒")
        return None
    return _passphrase(expected, allowed)


def _oidc(allowed: AllowList) -> Editor | None:
    user = st.user
    if not user.is_logged_in:
        with st.container(border=True):
            st.markdown("🔑 **Editors sign in** with the clinic's identity provider. Reading needs no sign-in.")
            if st.button("Sign in to edit", key="oidc_login", type="primary"):
                st.login()
        return None
    email = str(user.get("email") or "").strip()
    role = allowed.role(email) if email else None
    if role is None:
        left, right = st.columns([5, 1])
        left.warning(f"Signed in as **{md_escape(email or str(user.get('sub') or '?'))}**, who is not on the editors' "
                     "allow-list: reading only. Ask an administrator to add you to `[editors]` in the secrets.", icon="🔒")
        if right.button("Sign out", key="signout"):
            st.logout()
        return None
    editor = Editor(email.lower(), str(user.get("name") or email), can_approve=role == "approver")
    _signed_in_banner(editor, "identity provider", st.logout)
    return editor


def _passphrase(expected: str, allowed: AllowList) -> Editor | None:
    ss = st.session_state
    if ss.get("editor_identity"):
        identity = ss["editor_identity"]
        role = allowed.role(identity) if allowed.editors else "editor"
        if role is None:  # taken off the allow-list since signing in
            ss.pop("editor_identity", None)
            return None
        editor = Editor(identity, identity, can_approve=role == "approver")

        def sign_out() -> None:
            ss.pop("editor_identity", None)
            st.rerun()

        _signed_in_banner(editor, "passphrase", sign_out)
        return editor
    key = _client_key()
    with st.expander("🔑 Editor sign-in (reading needs none)", expanded=True):
        wait = seconds_locked(key)
        if wait > 0:
            st.error(f"Too many failed attempts from this address. Try again in {int(wait // 60) + 1} minutes.")
            return None
        names = "one of the allow-listed editors" if allowed.editors else "your name"
        with st.form("signin", clear_on_submit=True):
            given_name = st.text_input(f"Who you are ({names}; recorded as the author of every save)",
                                       key="signin_name", max_chars=80)
            phrase = st.text_input("Editor passphrase", type="password", key="signin_pass")
            submitted = st.form_submit_button("Sign in", key="signin_submit")
        if submitted:
            name = given_name.strip()
            if not name:
                st.error("Say who you are: it is recorded with every change.")
            elif not check_passphrase(phrase, expected) or (allowed.editors and allowed.role(name) is None):
                record_failure(key)
                wait = seconds_locked(key)
                st.error("That passphrase or name is not right."
                         + (f" Too many failed attempts from this address. Try again in {int(wait // 60) + 1} minutes." if wait else ""))
            else:
                clear_failures(key)
                ss["editor_identity"] = name.lower() if allowed.editors else name
                st.rerun()
    return None
