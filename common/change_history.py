"""The change history (django-auditlog): who made each change, and what it may show of personal data.

Staff in web requests are set by auditlog's middleware: they are users. Owners in their portal, Celery tasks and
management commands are not users, so they are named in the entry's `actor_email` field (a label here, shown
in the admin's change history as "owner …", "task …" or "command …"), never left as an anonymous "system".
"""

import contextlib
import functools
import getpass
from collections.abc import Iterator

from celery.signals import task_postrun, task_prerun


@contextlib.contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Changes saved inside name `label` as their actor (unless a user is already set as the actor)."""
    from auditlog.context import set_extra_data

    with set_extra_data({"actor_email": label[:254]}):
        yield


def changes_by(label: str):
    """A view decorator: changes the view saves name `label` as their actor (owners acting through a link)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            with acting_as(label):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate


def command_label(argv: list[str]) -> str:
    name = argv[1] if len(argv) > 1 else "help"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "an unnamed system user"
    return f"command {name} (run by {user})"


def command_line(argv: list[str]) -> None:
    """manage.py: runs the command with its name and the system user who ran it as the actor of its changes."""
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    with acting_as(command_label(argv)):
        execute_from_command_line(argv)


def history_note(instance, **changes) -> None:
    """A change made with a conditional queryset UPDATE (a state that must change once, whoever races for it)
    goes into the change history too: auditlog only sees save(). `changes`: field=(old, new)."""
    from auditlog.models import LogEntry

    LogEntry.objects.log_create(instance, force_log=True, action=LogEntry.Action.UPDATE,
                                changes={name: [_shown(old), _shown(new)] for name, (old, new) in changes.items()})


def _shown(value) -> str:
    return "None" if value is None else str(value)  # as auditlog writes values


def personal_value_mask(value: str) -> str:
    """AUDITLOG_MASK_CALLABLE: a personal field's change is recorded, its values never. (auditlog's own mask
    keeps half of each value: the end of a phone number, the town of an address.)"""
    return "(personal data, not kept)"


_tasks: dict[str, contextlib.ExitStack] = {}


@task_prerun.connect
def _task_starts(task_id=None, task=None, **_):
    stack = contextlib.ExitStack()
    stack.enter_context(acting_as(f"task {task.name}"))
    _tasks[task_id] = stack


@task_postrun.connect
def _task_ends(task_id=None, **_):
    stack = _tasks.pop(task_id, None)
    if stack is not None:
        stack.close()
