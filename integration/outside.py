"""Live views by an outside agency's person: the rule that says whether one may watch a camera now.

Outside agencies are kept by a higher app (agencies), which integration may not import: it adds its rule here at
start-up (agencies.apps), as registry's owner-access rules are added. With no rule added, no outside account
watches anything. The rule answers an OutsideGrant (the approved request, until when) or the reason it refuses;
the rest of live gating (training, the owner's sharing, pause, hours and limits, the program's policy) still
applies in integration.gating."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OutsideGrant:
    agency: str  # the agency's name, shown to the owner
    request_code: str  # the approved request the view is opened under
    until: datetime  # the end of the approved window


_rules: list = []


def outside_grant_rule_add(rule) -> None:
    """`rule(user, camera, now) -> OutsideGrant | str` (a refusal's reason)."""
    if rule not in _rules:
        _rules.append(rule)


def outside_grant(user, camera, now) -> OutsideGrant | str:
    if not _rules:
        return "Live views are for the program's crime analysts only."
    for rule in _rules:
        answer = rule(user, camera, now)
        if isinstance(answer, OutsideGrant):
            return answer
    return answer
