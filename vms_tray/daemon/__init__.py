"""The vms-tray daemon: keeps one session to one VMS server alive and tells the user about it.

Public API of ``Daemon`` (``vms_tray.daemon.worker``) for the tray, dialogs and control socket.
Every method is thread-safe; the daemon's own worker thread does the I/O (even
``has_password``, which reads the config and the keyring, asks the worker and waits), with
one exception: when ``stop()`` finds the worker stuck in a slow request, the quitting thread
signs out itself (``link.emergency_sign_out``, a network call bounded by what is left of the
quit's budget), because a quit must free the seat within its budget even then.

    snapshot() -> Snapshot            the current state (``expires_in`` counted down to now)
    subscribe(cb) -> unsubscribe      ``cb(Snapshot)`` after every change, on the daemon thread:
                                      it must return quickly and never call a blocking method
    post(command) -> None             never blocks; commands from ``vms_tray.commands``
    execute(command, timeout)         like post, but waits and raises what handling raised
    notifier                          the injected ``Notifier`` (the tray hooks its actions)
    has_password(server|None) -> bool whether a sign-in can run without asking for a password
    captcha() -> Captcha | None       in ``captcha_required``: PNG bytes, id, seconds left
    conflict_sessions() -> SessionList | None
                                      in ``limit_reached``: what the server listed with it
    sessions(timeout) -> SessionList  fetched now (conflict token in ``limit_reached``);
                                      blocking; Unsupported for kinds that cannot list
    end_session(id, timeout)          in ``limit_reached``: end it and finish signing in;
                                      signed in: end someone else's session. Blocking
    on_show(cb(reason))               "window" (a second ``vms-tray run``), "sign_in"
                                      (a password is needed), or a notification action id;
                                      a request nobody heard yet is replayed to the first cb
    on_stop(cb())                     the daemon stopped (after Quit / a signal); the tray
                                      quits on it
    stopped -> bool                   whether it has stopped
    start(server=None) / stop(timeout=2.0) / wait_stopped(timeout)

Modules: ``worker`` (queue, thread, public API, engine effects -> I/O), ``link`` (the server
session: connection, client, tokens, pending sign-in, captcha, conflict), ``results`` (server
answers and errors -> engine events), ``listeners`` (subscribers, show/stop replay), ``clock``
(suspend/jump heartbeat), ``scheduler`` (APScheduler timers), ``timers``, ``settings``,
``notices`` (wording), ``handler`` (control requests), ``ports`` (what the daemon needs).
The process around it (runner, wiring, headless notifier, logs, demo) is ``vms_tray.app``.
"""

from vms_tray.daemon.worker import Daemon

__all__ = ["Daemon"]
