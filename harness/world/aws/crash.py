"""When the simulator itself fails: a harness error, never an answer from AWS.

A crash inside moto or one of the harness's fakes (moto's ``IndexError`` on a repeated instance id, a fake asked for
an operation it does not implement, a request nobody answers) says nothing about the code under test. Handing it to
the code as if AWS had answered would let the code's ``except Exception`` turn a simulator bug into behaviour the
gate then judges. So the wire records the failure on the world's state (the observation is marked as a harness
error, whatever the code does next) and raises :class:`SimulatorCrash`, which ``except Exception`` cannot swallow,
so the run stops there.
"""

from __future__ import annotations

import traceback
from pathlib import PurePath


class SimulatorCrash(BaseException):  # noqa: N818 - a crash, not an error the code under test may handle
    """The simulator failed while answering a request of the code under test (a ``BaseException`` on purpose).

    Attributes:
        description: What failed, where, and answering which call.
    """

    def __init__(self, description: str) -> None:
        """Create the crash.

        Args:
            description: What failed, where, and answering which call.
        """
        super().__init__(description)
        self.description = description


def describe_failure(error: BaseException, call: str) -> str:
    """One line naming the part of the simulator that failed, the innermost frame and the call it was answering.

    Args:
        error: What the simulator raised.
        call: The call being answered, e.g. ``ec2:DescribeInstances (account 222222222222, region us-east-1)``.
    """
    frames = traceback.extract_tb(error.__traceback__)
    origin = "the harness's simulator"
    if any("/moto/" in frame.filename for frame in frames):
        origin = "moto"
    elif any(frame.filename.endswith("drs_fake.py") for frame in frames):
        origin = "the harness's DRS fake"
    where = ""
    if frames:
        last = frames[-1]
        where = f" at {PurePath(last.filename).name}:{last.lineno} in {last.name}"
    if type(error).__name__ == "UnmockedRequestError":
        return f"the harness refused {call}: {error}"
    return f"{origin} crashed answering {call}: {type(error).__name__}: {error}{where}"
