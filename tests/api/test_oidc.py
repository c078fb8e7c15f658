"""OpenID Connect login, driven step by step against a real provider on loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.app import OidcSettings, create_app
from api.oidc import FLOW_COOKIE, safe_next
from api.readside import ReadSide
from api.sessions import COOKIE_NAME, SessionData
from ledger.store import store_config
from projections.database import readmodel_engine
from projections.service import ProjectionService
from tests.api.conftest import Api
from tests.conftest import StoreHandle, World
from tests.oidc_provider import OidcProvider, ServedProvider

LOGIN = "/api/v1/auth/oidc/login"
CALLBACK = "http://testserver/api/v1/auth/oidc/callback"


@pytest.fixture(scope="module")
def served_provider() -> Iterator[OidcProvider]:
    served = ServedProvider(OidcProvider())
    yield served.start()
    served.stop()


@pytest.fixture
def provider(served_provider: OidcProvider) -> OidcProvider:
    served_provider.reset()
    return served_provider


@pytest.fixture
def make_client(store: StoreHandle, world: World, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Like `make_api`, with OpenID Connect configured and redirects left to the test."""
    made: list[tuple[TestClient, ProjectionService]] = []

    def make(settings: OidcSettings) -> TestClient:
        config = store_config(store.url, tmp_path)
        engine = readmodel_engine(config)
        service = ProjectionService(world.ledger, engine, config)
        service.start()
        read_side = ReadSide(engine, service)
        assert read_side.wait_for(world.ledger, world.ledger.head_position())
        client = TestClient(
            create_app(world.ledger, read_side, config.kind, oidc=settings), follow_redirects=False
        )
        made.append((client, service))
        return client

    yield make
    for client, service in made:
        client.close()
        service.stop()
        service.engine.dispose()


@pytest.fixture
def client(make_client: Callable[..., TestClient], provider: OidcProvider) -> TestClient:
    return make_client(OidcSettings(provider.issuer, provider.client_id, provider.client_secret))


def to_provider(client: TestClient, next_path: str = "/") -> str:
    """Start a login; the URL the provider sends the browser back to."""
    start = client.get(LOGIN, params={"next": next_path})
    assert start.status_code == 302, start.text
    assert FLOW_COOKIE in start.cookies
    answer = httpx2.get(start.headers["location"], follow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back: str = answer.headers["location"]
    assert back.startswith(CALLBACK + "?")
    return back


def log_in(client: TestClient, next_path: str = "/") -> httpx2.Response:
    return client.get(to_provider(client, next_path))


def session_in(app: Any, response: httpx2.Response) -> SessionData | None:
    """The session the response's cookie carries, read by the app's own codec."""
    value = response.cookies.get(COOKIE_NAME)
    if value is None:
        return None
    request = Request({"type": "http", "headers": [(b"cookie", f"{COOKIE_NAME}={value}".encode())]})
    found: SessionData | None = app.state.sessions.read(request)
    return found


def assert_problem(response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + code)
    assert body["detail"]
    return body


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- logging in ----------------------------------------------------------------------


def test_owner_logs_in_with_a_session_for_their_organization(client: TestClient, world: World) -> None:
    response = log_in(client, "/reports?week=47")

    assert response.status_code == 302
    assert response.headers["location"] == "/reports?week=47"
    session = session_in(client.app, response)
    assert session is not None
    assert (session.user, session.org, session.complete) == (world.owner.user_id, world.org_id, True)
    assert session.csrf
    assert any(h.startswith(f"{FLOW_COOKIE}=") for h in response.headers.get_list("set-cookie"))


def test_authorize_request_carries_pkce_nonce_and_scopes(client: TestClient) -> None:
    start = client.get(LOGIN)
    query = parse_qs(urlsplit(start.headers["location"]).query)

    assert query["scope"] == ["openid email profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["response_type"] == ["code"]
    assert len(query["nonce"][0]) >= 32
    assert len(query["state"][0]) >= 32


def test_email_known_only_to_userinfo_still_logs_in(
    client: TestClient, provider: OidcProvider, world: World
) -> None:
    provider.email, provider.email_in_id_token = "manager@acme.test", False

    response = log_in(client)

    assert response.status_code == 302, response.text
    session = session_in(client.app, response)
    assert session is not None
    assert session.user == world.manager.user_id


def test_keys_rotated_at_the_provider_are_fetched_again(
    client: TestClient, provider: OidcProvider, world: World
) -> None:
    assert log_in(client).status_code == 302  # the first key is now cached
    provider.rotate_key("test-key-2")

    response = log_in(client)

    assert response.status_code == 302, response.text
    session = session_in(client.app, response)
    assert session is not None
    assert session.user == world.owner.user_id


def test_another_host_in_next_is_replaced_by_the_root(client: TestClient) -> None:
    response = log_in(client, "https://evil.example/")

    assert response.status_code == 302
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/", "/"),
        ("/entries?week=3#top", "/entries?week=3#top"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("/\tevil", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_only_local_paths_are_followed_after_login(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


# --- refusals --------------------------------------------------------------------------


def test_unverified_email_is_refused(client: TestClient, provider: OidcProvider) -> None:
    provider.email_verified = False

    response = log_in(client)

    assert_problem(response, 403, "email-not-verified")
    assert session_in(client.app, response) is None


def test_email_no_organization_invited_is_not_a_member(client: TestClient, provider: OidcProvider) -> None:
    provider.email = "stranger@elsewhere.test"

    response = log_in(client)

    body = assert_problem(response, 403, "not-a-member")
    assert "admin" in body["detail"]
    assert session_in(client.app, response) is None


def test_with_a_join_organization_a_new_person_becomes_a_member_once(
    make_client: Callable[..., TestClient], provider: OidcProvider, world: World
) -> None:
    client = make_client(
        OidcSettings(provider.issuer, provider.client_id, provider.client_secret, join_org_id=world.org_id)
    )
    provider.email = "newcomer@acme.test"

    first = log_in(client)

    assert first.status_code == 302, first.text
    session = session_in(client.app, first)
    assert session is not None
    user = world.ledger.user_by_email("newcomer@acme.test")
    assert user is not None
    assert (session.user, session.org) == (user.id, world.org_id)
    organization = world.ledger.get_organization(world.org_id, world.owner)
    assert organization.role_of(user.id) == "member"
    head = world.ledger.head_position()
    again = log_in(client)
    assert session_in(client.app, again) is not None
    assert world.ledger.head_position() == head  # the second login adds nobody


def test_tampered_state_is_refused_before_the_code_is_spent(
    client: TestClient, provider: OidcProvider
) -> None:
    back = to_provider(client)
    exchanged = provider.token_requests

    response = client.get(with_query(back, state="forged"))

    assert_problem(response, 400, "invalid-state")
    assert provider.token_requests == exchanged
    assert client.get(back).status_code == 302  # the real answer still completes the login


def test_callback_without_a_login_in_progress_is_refused(
    client: TestClient, make_client: Callable[..., TestClient], provider: OidcProvider
) -> None:
    back = to_provider(client)
    other_browser = make_client(OidcSettings(provider.issuer, provider.client_id, provider.client_secret))

    assert_problem(other_browser.get(back), 400, "invalid-state")


def test_a_login_answer_works_once(client: TestClient) -> None:
    back = to_provider(client)
    assert client.get(back).status_code == 302

    assert_problem(client.get(back), 400, "invalid-state")


def test_id_token_signed_with_another_key_is_refused(client: TestClient, provider: OidcProvider) -> None:
    provider.sign_with_wrong_key = True

    response = log_in(client)

    assert_problem(response, 401, "invalid-id-token")
    assert session_in(client.app, response) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-client"}, "aud"),
        ({"iss": "https://impostor.example"}, "iss"),
        ({"nonce": "replayed-nonce"}, "nonce"),
        ({"exp": 1_000_000_000, "iat": 999_999_000}, "expired"),
    ],
)
def test_id_token_for_another_audience_issuer_nonce_or_time_is_refused(
    client: TestClient, provider: OidcProvider, changes: dict[str, Any], reason: str
) -> None:
    provider.claim_changes = changes

    body = assert_problem(log_in(client), 401, "invalid-id-token")
    assert reason in body["reason"]


def test_email_matches_whatever_its_case(client: TestClient, provider: OidcProvider, world: World) -> None:
    provider.email = "Member@ACME.test"

    response = log_in(client)

    session = session_in(client.app, response)
    assert session is not None
    assert session.user == world.member.user_id


def test_denied_at_the_provider_is_not_authenticated(client: TestClient, provider: OidcProvider) -> None:
    provider.deny = True

    response = log_in(client)

    body = assert_problem(response, 401, "oidc-login-denied")
    assert body["provider_error"] == "access_denied"


def test_refused_code_exchange_is_a_bad_gateway(
    make_client: Callable[..., TestClient], provider: OidcProvider
) -> None:
    client = make_client(OidcSettings(provider.issuer, provider.client_id, "not-the-secret"))

    assert_problem(log_in(client), 502, "oidc-token-exchange-failed")


def test_unreachable_provider_is_a_bad_gateway(make_client: Callable[..., TestClient]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(OidcSettings(f"http://127.0.0.1:{port}", "timeledger", "secret"))

    assert_problem(client.get(LOGIN), 502, "oidc-provider-unavailable")


def test_provider_over_plain_http_elsewhere_than_loopback_is_refused(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(OidcSettings("http://sso.example.test", "timeledger", "secret"))

    assert_problem(client.get(LOGIN), 502, "oidc-provider-misconfigured")


def test_without_oidc_settings_both_routes_are_not_found(api: Api) -> None:
    app: FastAPI = api.client.app  # type: ignore[assignment]
    assert app.state.oidc is None

    for path in (LOGIN, "/api/v1/auth/oidc/callback?code=x&state=y"):
        assert_problem(api.client.get(path, follow_redirects=False), 404, "oidc-not-configured")
