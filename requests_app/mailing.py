"""Mailing footage requests and reminders in batches: one SMTP connection, one claim and one ledger write per batch.

Exactly once, as far as SMTP allows: a batch is claimed by one conditional UPDATE (QUEUED -> SENDING), so no
other worker sends it; each message the server accepts is noted at once (`sent_at`, still SENDING), so a worker
killed mid-batch leaves the accepted ones to be recorded, never mailed again; the end of the batch turns them
SENT together with their ledger entries, in one transaction. What no one can know is whether a message whose
250 never arrived was delivered, or whether the note of one that was got written before the worker died: such a
message counts as unsent and is sent again, with the same Message-ID (derived from the request and the
recipient), so the copy is recognisable. That window, between the server's acceptance and the note, is the only
place a duplicate can come from (docs/SECURITY.md, "Mail delivery").

A dead worker is known at once, not after a grace period: the worker holds a PostgreSQL advisory lock named by
its claim's token (`claim`) for as long as it sends the batch, and PostgreSQL releases it when the worker's
session ends, killed or not. The sweep (every minute) takes over a claim whose lock it can take.
"""

import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.actions import Action
from audit.ledger import entry, record_many
from common.districts import district_of
from common.mail import MailRefused, MailServerLost, MailSession
from common.mail_batch import MailBatch
from common.mime import OutgoingMail, derived_message_id
from registry.models import Camera
from requests_app.models import FootageRequest
from requests_app.services import consent_link

# A claim without a token (made before tokens) this old belongs to a worker that died; and a request put back in the
# queue for a retry (the mail server was away) that no task took for this long is queued again.
STUCK_AFTER = timedelta(minutes=10)
# A queued request no worker took for this long: its task was lost (a worker killed while holding it leaves the
# message invisible in Redis for the broker's visibility timeout, an hour). With the sweep every minute, such a
# request is picked up within two minutes; one whose task was only slow in the queue gets a second task, which
# finds it claimed and does nothing.
QUEUED_GRACE = timedelta(seconds=45)
CLAIM_LOCKS = 0x6D61696C  # "mail": the advisory-lock namespace of claim tokens
_TABLE = FootageRequest._meta.db_table
State = FootageRequest.State


@dataclass
class MailRun:
    """What one batch came to. `retry`: back in the queue for the task's next try, with `reason`."""

    sent: int = 0
    failed: int = 0
    retry: list = field(default_factory=list)
    reason: str = ""

    def summary(self) -> str:
        return f"sent {self.sent}, failed {self.failed}, to retry {len(self.retry)}"


# What differs between the owners of one incident's batch; the rest of the mail is rendered once per batch.
MAIL_SLOTS = ("owner_name", "url", "request.camera_label")


def _mail_context(request: FootageRequest, *, expires_at) -> dict:
    return {"request": request, "incident": request.incident, "url": consent_link(request), "expires_at": expires_at,
            "owner_name": request.camera.owner.name}


class _Batches:
    """One MailBatch per incident and expiry: owners who get the same mail but for their own slots."""

    def __init__(self, name: str):
        self.name = name
        self._batches: dict[tuple, MailBatch] = {}

    def mail(self, request: FootageRequest, *, expires_at, message_key: tuple[str, ...]) -> OutgoingMail:
        """`message_key`: what makes this message this one (the request's code, a reminder's number): with the
        recipient, its Message-ID, the same each time the same message is sent."""
        key = (request.incident_id, expires_at)
        if key not in self._batches:
            self._batches[key] = MailBatch(name=self.name, slots=MAIL_SLOTS)
        to = request.camera.owner.email
        return self._batches[key].mail(to=to, language=request.camera.owner.language,
                                       context=_mail_context(request, expires_at=expires_at),
                                       message_id=derived_message_id(self.name, *message_key, recipient=to))


def _update_returning(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def _notes_without_waiting_for_disk():
    """A cursor whose commits do not wait for the disk (synchronous_commit off, for this session until the block
    ends). It notes accepted messages: a note is visible to every other session at once and survives a worker
    killed after it; only a database crash in the next fraction of a second could lose it, and the message
    would be mailed again. What is recorded for good (SENT, the ledger) is committed as usual."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        try:
            yield cursor
        finally:
            cursor.execute("RESET synchronous_commit")


def _claim_lock() -> int:
    """A fresh claim token, its advisory lock held by this session until _claim_unlock (or the session's end).
    Taken before the claim is written, so no sweep ever sees a claim whose lock is free while its worker lives."""
    with connection.cursor() as cursor:
        while True:
            token = secrets.randbelow(2**31 - 1) + 1
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CLAIM_LOCKS, token])
            if cursor.fetchone()[0]:
                return token


def _claim_unlock(token: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CLAIM_LOCKS, token])
    except DatabaseError:  # the session is gone, and its locks with it
        pass


def _claim(request_ids: list[int], token: int) -> list[FootageRequest]:
    """The queued ones among request_ids, now SENDING and this worker's; each claim counts as an attempt."""
    claimed = _update_returning(
        f"UPDATE {_TABLE} SET state = %s, claimed_at = %s, claim = %s, attempts = attempts + 1, sent_at = NULL "
        "WHERE id = ANY(%s) AND state = %s RETURNING id",
        [State.SENDING, timezone.now(), token, list(request_ids), State.QUEUED])
    if not claimed:
        return []
    requests = list(FootageRequest.objects.filter(pk__in=claimed).select_related("incident", "camera__owner")
                    .order_by("pk"))
    withdrawn = {r.pk for r in requests if r.camera is None or r.camera.status != Camera.Status.ACTIVE}
    if withdrawn:  # paused or deleted since it was chosen: the owner gets nothing
        FootageRequest.objects.filter(pk__in=withdrawn, state=State.SENDING).update(
            state=State.FAILED, failure_reason="The owner paused or deleted the camera.")
    return [r for r in requests if r.pk not in withdrawn]


def footage_requests_mail(*, request_ids: list[int]) -> MailRun:
    """Mails the queued requests among request_ids over one SMTP connection (see the module's docstring).

    A refused address fails its own request only (at once if the refusal is permanent); a lost mail server
    puts the requests not yet accepted back in the queue, with the reason, for the task to retry."""
    token = _claim_lock()
    try:
        return _mail_claimed(_claim(request_ids, token))
    finally:  # whatever is still SENDING now (an error stopped the batch) the next sweep takes over at once
        _claim_unlock(token)


def _mail_claimed(requests: list[FootageRequest]) -> MailRun:
    run = MailRun()
    expires_at = timezone.now() + timedelta(days=settings.REQUEST_LINK_DAYS)
    accepted, refused, retry = [], {}, {}
    batches = _Batches("footage-request")
    try:
        with MailSession() as session, _notes_without_waiting_for_disk() as notes:
            for position, request in enumerate(requests):
                message = batches.mail(request, expires_at=expires_at, message_key=(str(request.code),))
                try:
                    session.send(message)
                except MailRefused as exc:
                    target = refused if exc.permanent else retry
                    target[request.pk] = f"The mail server refused this message: {exc}"
                    continue
                except MailServerLost as exc:
                    run.reason = f"Mail server unreachable: {exc}"
                    retry.update({r.pk: run.reason for r in requests[position:]})
                    break
                # Noted before the next message: a worker killed after this point never mails this owner again.
                notes.execute(f"UPDATE {_TABLE} SET sent_at = %s, expires_at = %s WHERE id = %s AND state = %s",
                              [timezone.now(), expires_at, request.pk, State.SENDING])
                accepted.append(request)
    finally:  # whatever stopped the batch, what was delivered is recorded now (the rest waits for the sweep)
        run.sent = _accepted_record(accepted)
    for request_id, reason in refused.items():
        run.failed += FootageRequest.objects.filter(pk=request_id, state=State.SENDING).update(
            state=State.FAILED, failure_reason=reason[:300])
    for reason, ids in _grouped(retry).items():
        FootageRequest.objects.filter(pk__in=ids, state=State.SENDING).update(
            state=State.QUEUED, failure_reason=reason[:300])
    run.retry = sorted(retry)
    run.reason = run.reason or next(iter(retry.values()), "")
    return run


def _grouped(reasons: dict[int, str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for request_id, reason in reasons.items():
        groups.setdefault(reason, []).append(request_id)
    return groups


def footage_requests_accepted_record(*, request_ids: list[int]) -> int:
    """SENDING -> SENT for requests the mail server accepted (`sent_at` set), with their ledger entries, in one
    transaction; returns how many. Requests already recorded (by the sweep, say) are not recorded twice."""
    return _accepted_record(list(FootageRequest.objects.filter(pk__in=request_ids)
                                 .select_related("incident", "camera__owner")))


def _accepted_record(requests: list[FootageRequest]) -> int:
    if not requests:
        return 0
    with transaction.atomic():
        done = set(_update_returning(
            f"UPDATE {_TABLE} SET state = %s, failure_reason = '' "
            "WHERE id = ANY(%s) AND state = %s AND sent_at IS NOT NULL RETURNING id",
            [State.SENT, [r.pk for r in requests], State.SENDING]))
        districts = {}
        entries = []
        for request in requests:
            if request.pk not in done:
                continue
            incident, camera = request.incident, request.camera
            if incident.pk not in districts:
                districts[incident.pk] = district_of(incident.location)
            entries.append(entry(
                actor=None, action=Action.REQUEST_MAILED, target_type="footage_request", target_code=request.code,
                camera_code=camera.code if camera else "", owner_code=camera.owner.code if camera else "",
                incident_code=incident.code, case_number=incident.case_number, offense_type=incident.offense_type,
                district=districts[incident.pk]))
        record_many(entries)
    return len(done)


def footage_requests_give_up(*, request_ids: list[int]) -> int:
    """After the last retry: the requests show as failed, with the reason kept, for staff to resend."""
    return FootageRequest.objects.filter(pk__in=request_ids, state=State.QUEUED).update(state=State.FAILED)


def footage_requests_stuck() -> list[int]:
    """What a dead worker or a lost task left, returned to be queued: a claim whose worker is gone (its lock is
    free) at once, its accepted mail recorded (never sent again) and the rest queued again; a claim without a
    token after STUCK_AFTER; queued requests no task took within QUEUED_GRACE (STUCK_AFTER for those waiting for
    a retry). Each queued request is returned at most once per grace (claimed_at notes when)."""
    now = timezone.now()
    recovered = []
    for token in (FootageRequest.objects.filter(state=State.SENDING, claim__isnull=False)
                  .values_list("claim", flat=True).distinct()):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CLAIM_LOCKS, token])
            if not cursor.fetchone()[0]:
                continue  # its worker is alive and sending
        try:  # held now, so two sweeps never both take over the same claim
            recovered += _abandoned_recover(FootageRequest.objects.filter(state=State.SENDING, claim=token))
        finally:
            _claim_unlock(token)
    recovered += _abandoned_recover(FootageRequest.objects.filter(state=State.SENDING, claim__isnull=True,
                                                                  claimed_at__lt=now - STUCK_AFTER))
    queued = FootageRequest.objects.filter(state=State.QUEUED).exclude(pk__in=recovered)
    lost = queued.filter(failure_reason="", created_at__lt=now - QUEUED_GRACE).exclude(
        claimed_at__gte=now - QUEUED_GRACE)
    retry_lost = queued.exclude(failure_reason="").filter(created_at__lt=now - STUCK_AFTER).exclude(
        claimed_at__gte=now - STUCK_AFTER)
    ids = sorted({*recovered, *lost.values_list("pk", flat=True)[:1000],
                  *retry_lost.values_list("pk", flat=True)[:1000]})[:1000]
    FootageRequest.objects.filter(pk__in=ids, state=State.QUEUED).update(claimed_at=now)
    return ids


def _abandoned_recover(abandoned) -> list[int]:
    """A dead worker's claim: what the server accepted is recorded as sent; the rest is queued again."""
    footage_requests_accepted_record(request_ids=list(abandoned.filter(sent_at__isnull=False)
                                                      .values_list("pk", flat=True)))
    return _update_returning(
        f"UPDATE {_TABLE} SET state = %s WHERE id = ANY(%s) AND state = %s AND sent_at IS NULL RETURNING id",
        [State.QUEUED, list(abandoned.values_list("pk", flat=True)), State.SENDING])


# --- reminders ------------------------------------------------------------------------------------------

def footage_reminders_due() -> list[list[int]]:
    """[request id, reminders sent so far] of unanswered, unlapsed requests whose next reminder has come."""
    now = timezone.now()
    due = []
    hours = sorted(settings.REQUEST_REMINDER_HOURS)
    for request in FootageRequest.objects.filter(state__in=FootageRequest.AWAITING, expires_at__gt=now,
                                                 reminders_sent__lt=len(hours)).only(
            "pk", "sent_at", "reminders_sent"):
        if request.sent_at and now >= request.sent_at + timedelta(hours=hours[request.reminders_sent]):
            due.append([request.pk, request.reminders_sent])
    return due


def footage_reminders_send(*, due: list[list[int]]) -> MailRun:
    """Sends the due reminders over one SMTP connection. Each is claimed first (its count raised where it still
    is the one seen as due), so a redelivered task never sends the same reminder twice; one that was not
    accepted is given back (its count lowered again) and returned in `retry` as [id, count]."""
    run = MailRun()
    counts = {request_id: count for request_id, count in due}
    candidates = {r.pk: r for r in FootageRequest.objects.filter(
        pk__in=list(counts), state__in=FootageRequest.AWAITING, camera__status=Camera.Status.ACTIVE)
        .select_related("incident", "camera__owner")}
    ids = list(candidates)
    claimed = _update_returning(
        f"UPDATE {_TABLE} AS r SET reminders_sent = r.reminders_sent + 1 "
        "FROM unnest(%s::bigint[], %s::int[]) AS v(id, n) "
        "WHERE r.id = v.id AND r.reminders_sent = v.n AND r.state = ANY(%s) RETURNING r.id",
        [ids, [counts[i] for i in ids], list(FootageRequest.AWAITING)]) if ids else []
    unsent = []
    batches = _Batches("footage-reminder")
    with MailSession() as session:
        for position, request_id in enumerate(sorted(claimed)):
            request = candidates[request_id]
            message = batches.mail(request, expires_at=request.expires_at,
                                   message_key=(str(request.code), str(counts[request_id] + 1)))
            try:
                session.send(message)
            except MailRefused as exc:
                if exc.permanent:  # this address will not take mail: no more reminders to it
                    run.failed += 1
                else:
                    unsent.append(request_id)
                    run.reason = str(exc)
                continue
            except MailServerLost as exc:
                unsent.extend(sorted(claimed)[position:])
                run.reason = str(exc)
                break
            run.sent += 1
    if unsent:  # given back: the retry (or the next sweep) may claim them again
        given_back = _update_returning(
            f"UPDATE {_TABLE} AS r SET reminders_sent = r.reminders_sent - 1 "
            "FROM unnest(%s::bigint[], %s::int[]) AS v(id, n) "
            "WHERE r.id = v.id AND r.reminders_sent = v.n + 1 RETURNING r.id",
            [unsent, [counts[i] for i in unsent]])
        run.retry = [[request_id, counts[request_id]] for request_id in sorted(given_back)]
    return run

