from celery import shared_task

from audit import ledger, review


@shared_task
def ledger_seal_task() -> str:
    """Every minute: seals entries left pending (a process that died between recording and sealing)."""
    return f"sealed {ledger.seal()} ledger entries"


@shared_task
def ledger_purge_task() -> str:
    return f"purged {ledger.purge()} ledger entries"


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=6)
def weekly_review_send_task() -> str:
    return f"sent to {review.weekly_review_send()} auditors"


@shared_task
def ledger_checkpoint_publish_task() -> str:
    from audit import publishing

    checkpoint = publishing.publish()
    return f"published {checkpoint}" if checkpoint else "no new entries to publish"


@shared_task
def policy_record_task() -> str:
    from audit import policy

    return "recorded a policy change" if policy.policy_record_if_changed() else "policy unchanged"
