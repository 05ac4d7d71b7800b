"""Editors sign in through OIDC (`st.login`) against a real OpenID provider started on loopback.

The provider is `oidc-provider-mock`: a complete OpenID Connect server (discovery, authorization code
flow, signed ID tokens, userinfo) whose login form takes any subject. The allow-list in the app's
secrets decides who may edit and who may approve; everyone may read.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect
from streamlit_server import StreamlitServer, copy_knowledge, free_port, require_browser
from ui_helpers import click_and_wait, exceptions_on_page, main_text, new_page, open_app, screenshot, select_option, wait_idle

from hipguide import editorial

TIMEOUT = 30_000
ANA = ("ana", "ana@clinic.example", "Ana Oidc")          # an editor
MALLORY = ("mallory", "mallory@elsewhere.example", "Mallory")  # signed in, but not on the allow-list


@pytest.fixture(scope="module")
def provider():
    require_browser()
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub=sub, claims={"email": email, "email_verified": True, "name": name}) for sub, email, name in (ANA, MALLORY)]
    with run_server_in_thread(port=free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def oidc_app(provider, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oidc")
    knowledge = copy_knowledge(tmp / "knowledge")
    port = free_port()
    secrets_file = tmp / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "hipguide-test"\n'
        'client_secret = "not-a-secret-test-client"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
        "[editors]\n"
        f'editors = ["{ANA[1]}"]\n'
        'approvers = ["someone-else@clinic.example"]\n',
        encoding="utf-8")
    server = StreamlitServer(knowledge, port=port, log_dir=tmp, env={"HIPGUIDE_EDITOR_PASSPHRASE": ""},
                             extra_args=["--secrets.files", str(secrets_file)])
    server.start()
    yield server
    server.stop()


def sign_in(page, app_url: str, subject: str) -> None:
    open_app(page, app_url, "Editor")
    expect(page.get_by_text("Editors sign in")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Sign in to edit").click()
    # The provider's own login page, on its own origin.
    page.wait_for_url(re.compile(r"http://localhost:\d+/oauth2/authorize"), timeout=TIMEOUT)
    page.get_by_placeholder("sub").fill(subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/"), timeout=TIMEOUT)
    wait_idle(page)
    open_app(page, app_url, "Editor")  # Streamlit returns to the app's landing page after the callback


def test_an_allow_listed_editor_signs_in_through_oidc_and_saves_under_that_identity(browser, oidc_app, artifacts):
    context, page = new_page(browser)
    try:
        open_app(page, oidc_app.url, "Editor")
        assert "Adopted guidance" in main_text(page) or "Topic" in main_text(page)  # reading needs no sign-in
        sign_in(page, oidc_app.url, ANA[0])
        expect(page.get_by_text(re.compile("Signed in as editor Ana Oidc"))).to_be_visible(timeout=TIMEOUT)
        assert ANA[1] in main_text(page)
        screenshot(page, artifacts / "oidc_signed_in.png")

        select_option(page, "Topic", "Ice / cold")
        note = page.get_by_label(re.compile("^Why you changed it"))
        note.fill("saved after OIDC sign-in")
        note.press("Enter")
        wait_idle(page)
        click_and_wait(page, page.get_by_role("button", name=re.compile("Save decision")))
        expect(page.get_by_text(re.compile(r"^Saved .*: version \d+"))).to_be_visible(timeout=TIMEOUT)
        save = editorial.history(oidc_app.knowledge_dir, "ice")[0]
        assert (save.author, save.author_name, save.note) == (ANA[1], ANA[2], "saved after OIDC sign-in")
        # An editor, not an approver: no approval button, and the page says who may approve.
        assert page.get_by_role("button", name=re.compile("^Approve version")).count() == 0
        assert not exceptions_on_page(page)
    finally:
        context.close()


def test_a_signed_in_user_off_the_allow_list_only_reads(browser, oidc_app, artifacts):
    context, page = new_page(browser)
    try:
        sign_in(page, oidc_app.url, MALLORY[0])
        expect(page.get_by_text(re.compile("not on the editors' allow-list"))).to_be_visible(timeout=TIMEOUT)
        assert page.get_by_role("button", name=re.compile("Save decision")).count() == 0
        screenshot(page, artifacts / "oidc_not_allowed.png")
        assert not exceptions_on_page(page)
    finally:
        context.close()
