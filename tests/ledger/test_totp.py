"""Two-factor login in the ledger: enabling, disabling and spending recovery codes, each only by
the user themself, each idempotent with a command id, each refused when the state forbids it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from uuid import UUID, uuid4

import pytest

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.errors import ConflictError, ForbiddenError, InvalidInputError, LedgerError, NotFoundError
from ledger.users import User
from tests.conftest import World

CIPHERTEXT = "gAAAAABfake-ciphertext-of-a-totp-secret"
HASHES = [hashlib.sha256(f"code-{i}".encode()).hexdigest() for i in range(10)]


def refused(world: World, error: type[LedgerError], words: str, call: Callable[[], object]) -> None:
    head = world.ledger.head_position()
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    assert words.lower() in str(info.value).lower(), str(info.value)
    assert world.ledger.head_position() == head


def user(world: World, actor: Actor) -> User:
    assert actor.user_id is not None
    found = world.ledger.get_user(actor.user_id)
    assert found is not None
    return found


def enable(world: World, actor: Actor | None = None, command_id: str | None = None) -> UUID:
    who = actor or world.member
    assert who.user_id is not None
    world.ledger.enable_two_factor(
        user_id=who.user_id,
        secret_ciphertext=CIPHERTEXT,
        recovery_code_hashes=HASHES,
        actor=who,
        command_id=command_id,
    )
    return who.user_id


def test_enabling_keeps_the_ciphertext_and_the_code_hashes(world: World) -> None:
    assert not user(world, world.member).two_factor_enabled
    enable(world)
    found = user(world, world.member)
    assert found.two_factor_enabled
    assert found.two_factor_secret == CIPHERTEXT
    assert found.recovery_code_hashes == tuple(HASHES)


def test_the_state_replays_from_the_store(world: World, make_ledger: Callable[..., TimeLedger]) -> None:
    user_id = enable(world)
    world.ledger.use_recovery_code(user_id=user_id, code_hash=HASHES[3], actor=world.member)
    fresh = make_ledger().get_user(user_id)
    assert fresh is not None
    assert fresh.two_factor_secret == CIPHERTEXT
    assert fresh.recovery_code_hashes == tuple(h for h in HASHES if h != HASHES[3])
    names = [type(e).__qualname__ for e in world.ledger.events.get(user_id)]
    assert names[-2:] == ["User.TwoFactorEnabled", "User.RecoveryCodeUsed"]


def test_enabling_twice_is_a_conflict(world: World) -> None:
    enable(world)
    refused(world, ConflictError, "already on", lambda: enable(world))


@pytest.mark.parametrize(
    ("ciphertext", "hashes", "words"),
    [
        ("", HASHES, "encrypted secret"),
        ("x" * 1001, HASHES, "encrypted secret"),
        (CIPHERTEXT, HASHES[:9], "10 different recovery codes"),
        (CIPHERTEXT, [HASHES[0]] * 10, "10 different recovery codes"),
        (CIPHERTEXT, [*HASHES[:9], "not-a-hash"], "64 lower-case hex"),
    ],
    ids=["empty-secret", "huge-secret", "nine-codes", "repeated-codes", "bad-hash"],
)
def test_enabling_refuses_bad_input(world: World, ciphertext: str, hashes: list[str], words: str) -> None:
    assert world.member.user_id is not None
    refused(
        world,
        InvalidInputError,
        words,
        lambda: world.ledger.enable_two_factor(
            user_id=world.member.user_id,  # type: ignore[arg-type]
            secret_ciphertext=ciphertext,
            recovery_code_hashes=hashes,
            actor=world.member,
        ),
    )


def test_disabling_forgets_the_secret_and_the_codes(world: World) -> None:
    user_id = enable(world)
    world.ledger.disable_two_factor(user_id=user_id, actor=world.member)
    found = user(world, world.member)
    assert not found.two_factor_enabled
    assert found.two_factor_secret is None
    assert found.recovery_code_hashes == ()


def test_disabling_when_off_is_a_conflict(world: World) -> None:
    assert world.member.user_id is not None
    refused(
        world,
        ConflictError,
        "already off",
        lambda: world.ledger.disable_two_factor(user_id=world.member.user_id, actor=world.member),  # type: ignore[arg-type]
    )


def test_a_recovery_code_works_once(world: World) -> None:
    user_id = enable(world)
    world.ledger.use_recovery_code(user_id=user_id, code_hash=HASHES[0], actor=world.member)
    assert HASHES[0] not in user(world, world.member).recovery_code_hashes
    refused(
        world,
        ConflictError,
        "unknown or was already used",
        lambda: world.ledger.use_recovery_code(user_id=user_id, code_hash=HASHES[0], actor=world.member),
    )


def test_an_unknown_recovery_code_is_a_conflict(world: World) -> None:
    user_id = enable(world)
    unknown = hashlib.sha256(b"guess").hexdigest()
    refused(
        world,
        ConflictError,
        "unknown",
        lambda: world.ledger.use_recovery_code(user_id=user_id, code_hash=unknown, actor=world.member),
    )


def test_no_recovery_code_works_while_two_factor_is_off(world: World) -> None:
    user_id = enable(world)
    world.ledger.disable_two_factor(user_id=user_id, actor=world.member)
    refused(
        world,
        ConflictError,
        "two-factor login is off",
        lambda: world.ledger.use_recovery_code(user_id=user_id, code_hash=HASHES[1], actor=world.member),
    )


def test_a_malformed_code_hash_is_invalid_input(world: World) -> None:
    user_id = enable(world)
    refused(
        world,
        InvalidInputError,
        "hex",
        lambda: world.ledger.use_recovery_code(user_id=user_id, code_hash="code-1", actor=world.member),
    )


@pytest.mark.parametrize("command", ["enable", "disable", "use"])
def test_another_users_actor_is_refused(world: World, command: str) -> None:
    member_id = enable(world) if command != "enable" else world.member.user_id
    assert member_id is not None
    calls: dict[str, Callable[[Actor], object]] = {
        "enable": lambda actor: world.ledger.enable_two_factor(
            user_id=member_id, secret_ciphertext=CIPHERTEXT, recovery_code_hashes=HASHES, actor=actor
        ),
        "disable": lambda actor: world.ledger.disable_two_factor(user_id=member_id, actor=actor),
        "use": lambda actor: world.ledger.use_recovery_code(
            user_id=member_id, code_hash=HASHES[0], actor=actor
        ),
    }
    # Not even the organization's owner, nor a token of someone else, acts for the member.
    assert world.owner.user_id is not None
    owner_token = Actor.token(world.owner.user_id, uuid4(), world.org_id)
    for actor in (world.owner, world.manager, owner_token):
        refused(world, ForbiddenError, "only your own", lambda actor=actor: calls[command](actor))


def test_an_unknown_user_is_not_found(world: World) -> None:
    nobody = uuid4()
    refused(
        world,
        NotFoundError,
        "no user",
        lambda: world.ledger.disable_two_factor(user_id=nobody, actor=Actor.system()),
    )


def test_the_system_may_turn_two_factor_off_for_account_recovery(world: World) -> None:
    user_id = enable(world)
    world.ledger.disable_two_factor(user_id=user_id, actor=Actor.system())
    assert not user(world, world.member).two_factor_enabled


def test_a_repeated_enable_appends_nothing_even_with_new_secrets(world: World) -> None:
    user_id = enable(world, command_id="2fa-on")
    head = world.ledger.head_position()
    again = world.ledger.enable_two_factor(
        user_id=user_id,
        secret_ciphertext="another-ciphertext",
        recovery_code_hashes=[hashlib.sha256(f"other-{i}".encode()).hexdigest() for i in range(10)],
        actor=world.member,
        command_id="2fa-on",
    )
    assert again.repeated
    assert again.command == "enable_two_factor"
    assert world.ledger.head_position() == head
    assert user(world, world.member).two_factor_secret == CIPHERTEXT


def test_a_repeated_disable_appends_nothing(world: World) -> None:
    user_id = enable(world)
    first = world.ledger.disable_two_factor(user_id=user_id, actor=world.member, command_id="2fa-off")
    head = world.ledger.head_position()
    world.clock.advance(60)
    second = world.ledger.disable_two_factor(user_id=user_id, actor=world.member, command_id="2fa-off")
    assert second == first
    assert second.repeated
    assert world.ledger.head_position() == head


def test_a_repeated_recovery_code_use_answers_as_the_first(world: World) -> None:
    user_id = enable(world)
    first = world.ledger.use_recovery_code(
        user_id=user_id, code_hash=HASHES[2], actor=world.member, command_id="rc"
    )
    head = world.ledger.head_position()
    second = world.ledger.use_recovery_code(
        user_id=user_id, code_hash=HASHES[2], actor=world.member, command_id="rc"
    )
    assert second == first
    assert second.repeated
    assert world.ledger.head_position() == head
    assert len(user(world, world.member).recovery_code_hashes) == 9
