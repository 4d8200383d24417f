"""Properties of the identity store: what a principal is granted always equals what was put and attached."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.clock import FakeClock
from cronbridge.identity import IdentityService
from cronbridge.store.db import SqliteDatabase

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
NAMES = ["a", "b", "c"]
OPS = st.lists(st.tuples(st.sampled_from(["put", "delete", "attach", "detach"]), st.sampled_from(NAMES)), max_size=25)


def _document(name: str, revision: int) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": f"S{revision}", "Effect": "Allow", "Action": f"svc{name}:Do", "Resource": "*"}],
        }
    )


@given(ops=OPS)
@settings(max_examples=40, deadline=None)
def test_a_role_sessions_policies_follow_every_change_at_once(ops: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = SqliteDatabase(Path(tmp) / "s.db")
        identity = IdentityService(db, FakeClock(), "123456789012", lambda: None)
        role = identity.create_role("r", TRUST)
        arns = {n: identity.policies.create(f"managed-{n}", _document(n, 0)).arn for n in NAMES}
        session = identity.assume_role(role.arn, "s1", caller="events.amazonaws.com")
        inline: dict[str, int] = {}
        attached: list[str] = []
        for revision, (op, name) in enumerate(ops, start=1):
            principal = identity.principal_of_key(session.access_key_id)
            assert principal is not None
            identity.policies_for(principal)  # warm the cache before each change
            _apply(identity, op, name, revision, inline, attached, arns[name])
            got = identity.policies_for(principal)
            want = [f"inline:r/{n}" for n in sorted(inline)] + attached
            assert [p.name for p in got] == want
            sids = {p.name: p.policy.statements[0].sid for p in got}
            assert all(sids[f"inline:r/{n}"] == f"S{r}" for n, r in inline.items())
        db.close()


def _apply(
    identity: IdentityService, op: str, name: str, revision: int, inline: dict[str, int], attached: list[str], arn: str
) -> None:
    if op == "put":
        identity.policies.put_inline("role", "r", name, _document(name, revision))
        inline[name] = revision
    elif op == "delete" and name in inline:
        identity.policies.delete_inline("role", "r", name)
        del inline[name]
    elif op == "attach" and arn not in attached:
        identity.policies.attach("role", "r", arn)
        attached.append(arn)
    elif op == "detach" and arn in attached:
        identity.policies.detach("role", "r", arn)
        attached.remove(arn)
