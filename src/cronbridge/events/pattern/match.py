"""Matching a compiled pattern against a flattened event, array-consistently, as Event Ruler does."""

from __future__ import annotations

from cronbridge.events.pattern.compiler import SubRule
from cronbridge.events.pattern.flat import FlatEvent, Membership

Constraints = dict[int, int]  # array id -> the element chosen for it so far


def rule_matches(rule: SubRule, event: FlatEvent) -> bool:
    """Whether some choice of values satisfies every step, never using two elements of the same array.

    Steps are taken in path order; a value step picks one value consistent with the elements already chosen
    (backtracking over the choices), and an `exists: false` step holds when no value at its path is consistent
    with them — Event Ruler's order-dependent reading of absence inside arrays.
    """
    return _from(rule, 0, event, {})


def _from(rule: SubRule, index: int, event: FlatEvent, chosen: Constraints) -> bool:
    if index == len(rule):
        return True
    step = rule[index]
    candidates = [(leaf, m) for leaf, m in event.values(step.path) if _consistent(chosen, m)]
    if not candidates:
        return step.absent_ok and _from(rule, index + 1, event, chosen)
    for leaf, membership in candidates:
        if any(test(leaf) for test in step.tests):
            if not membership or all(chosen.get(a) == i for a, i in membership):
                if _from(rule, index + 1, event, chosen):
                    return True
            elif _from(rule, index + 1, event, {**chosen, **dict(membership)}):
                return True
    return False


def _consistent(chosen: Constraints, membership: Membership) -> bool:
    return all(chosen.get(array, index) == index for array, index in membership)
