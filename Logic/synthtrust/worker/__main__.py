"""``python -m synthtrust.worker JOB_FOLDER``: run one job; every outcome arrives as a protocol message.

Exit codes: 0 done, 1 failed, 2 input error (the message says what to fix), 3 cancelled (SIGTERM or
Ctrl-C). Stray prints of libraries go to stderr so stdout carries protocol lines only.
"""

from __future__ import annotations

import signal
import sys
import traceback

from synthtrust.errors import CancelledError, InputError
from synthtrust.worker import protocol


def _cancel(signum, frame):
    raise CancelledError(f"cancelled by signal {signum}; nothing was written")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    emitter = protocol.Emitter(sys.stdout)
    if len(argv) != 1:
        emitter.send(protocol.error("InputError", "usage: python -m synthtrust.worker JOB_FOLDER (a folder with "
                                                  "job.json and its input images)"))
        return protocol.EXIT_INPUT_ERROR
    previous_stdout, previous_handler = sys.stdout, signal.signal(signal.SIGTERM, _cancel)
    sys.stdout = sys.stderr
    try:
        return _run(argv[0], emitter)
    finally:
        # Restored for callers that run the worker in-process (tests); a worker process just exits.
        sys.stdout = previous_stdout
        signal.signal(signal.SIGTERM, previous_handler)


def _run(folder: str, emitter: protocol.Emitter) -> int:
    try:
        from synthtrust.worker.jobs import run_job

        outputs = run_job(folder, emitter)
    except (CancelledError, KeyboardInterrupt):
        emitter.send(protocol.cancelled())
        return protocol.EXIT_CANCELLED
    except InputError as error:
        emitter.send(protocol.error("InputError", str(error)))
        return protocol.EXIT_INPUT_ERROR
    except Exception as error:  # noqa: BLE001 - every failure must reach the parent as a message
        emitter.send(protocol.log(traceback.format_exc(), "debug"))
        emitter.send(protocol.error(type(error).__name__, str(error) or repr(error)))
        return protocol.EXIT_FAILED
    emitter.send(protocol.result(str(outputs)))
    return protocol.EXIT_OK

if __name__ == "__main__":
    sys.exit(main())
