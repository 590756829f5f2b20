"""DeepRacer reward functions run unmodified; every failure names the file and the line."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from racer.rewards.loader import (
    RewardFunction,
    RewardFunctionError,
    RewardLoadError,
    format_params,
    load_reward_function,
)
from racer.sim.params import ParamsInput, build_params
from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState, RaceObject


def write(tmp_path: Path, body: str, name: str = "reward.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def line_of(path: Path, marker: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if marker in line:
            return i
    raise AssertionError(marker)


@pytest.fixture(scope="module")
def params() -> dict[str, Any]:
    circle = np.array([[5 * np.cos(a), 5 * np.sin(a)] for a in np.linspace(0, 2 * np.pi, 61)[:-1]])
    track = Track.from_centreline("circle", circle, 1.0)
    inp = ParamsInput(
        track=track,
        spec=CarSpec(),
        car=CarState(5.0, 0.0, np.pi / 2),
        steering_deg=10.0,
        speed=1.0,
        steps=3,
        progress=1.5,
        all_wheels_on_track=True,
        is_offtrack=False,
        is_crashed=False,
        is_reversed=False,
        objects=(RaceObject("box", 0.0, 5.0, 0.0, 0.24, 0.39, 0.2),),
        sim_time=0.2,
    )
    return build_params(inp)


# ------------------------------------------------------------------------ runs unmodified
def test_module_state_persists_between_calls(tmp_path: Path, params: dict[str, Any]) -> None:
    rf = load_reward_function(
        write(
            tmp_path,
            """
            calls = 0
            history = []

            def reward_function(params):
                global calls
                calls += 1
                history.append(params["steps"])
                return float(calls)
            """,
        )
    )
    assert [rf(params, i) for i in range(3)] == [1.0, 2.0, 3.0]
    assert rf.module.history == [3.0, 3.0, 3.0]


def test_classes_dataclasses_and_pickling(tmp_path: Path, params: dict[str, Any]) -> None:
    rf = load_reward_function(
        write(
            tmp_path,
            """
            import math
            from dataclasses import dataclass

            import numpy as np

            @dataclass
            class Memory:
                last: float = 0.0

            class Scorer:
                def __init__(self):
                    self.memory = Memory()

                def score(self, params):
                    d = math.hypot(params["x"], params["y"])
                    self.memory.last = float(np.clip(d / 10.0, 0.0, 1.0))
                    return self.memory.last

            SCORER = Scorer()

            def reward_function(params):
                return SCORER.score(params)
            """,
        )
    )
    assert rf(params, 1) == pytest.approx(0.5, abs=0.01)
    memory = rf.module.SCORER.memory
    assert pickle.loads(pickle.dumps(memory)) == memory
    # The wrapper itself pickles by path and loads the file again.
    again = pickle.loads(pickle.dumps(rf))
    assert isinstance(again, RewardFunction) and again.path == rf.path
    assert again(params, 1) == rf(params, 1)


def test_last_definition_wins(tmp_path: Path, params: dict[str, Any]) -> None:
    path = write(
        tmp_path,
        """
        def reward_function(params):
            return 1.0

        def reward_function(params):  # the one in use
            return 2.0
        """,
    )
    rf = load_reward_function(path)
    assert rf(params, 1) == 2.0
    assert rf.line == line_of(path, "the one in use")


def test_undocumented_keys_are_all_present(tmp_path: Path, params: dict[str, Any]) -> None:
    rf = load_reward_function(
        write(
            tmp_path,
            """
            def reward_function(params):
                total = params["projection_distance"] + params["sim_time"]
                total += sum(params["objects_distance_from_center"])
                return total + (1.0 if params["object_in_camera"] else 0.0)
            """,
        )
    )
    assert rf(params, 1) > 0.0


def test_sibling_imports_file_and_fresh_copies(tmp_path: Path, params: dict[str, Any]) -> None:
    write(tmp_path, "BONUS = 0.25\n", name="my_helpers_for_reward.py")
    rf = load_reward_function(
        write(
            tmp_path,
            """
            import os
            from my_helpers_for_reward import BONUS

            LOG = os.path.join(os.path.dirname(__file__), "reward.log")

            def reward_function(params):
                params["waypoints"].clear()
                params["objects_location"][0][0] = 99.0
                params["speed"] = -1.0
                with open(LOG, "a") as f:
                    f.write("called\\n")
                return 1.0 + BONUS
            """,
        )
    )
    before = {k: (list(v) if isinstance(v, list) else v) for k, v in params.items()}
    assert rf(params, 1) == 1.25
    assert params["waypoints"] == before["waypoints"]
    assert params["objects_location"] == before["objects_location"]
    assert params["speed"] == before["speed"]
    assert (tmp_path / "reward.log").read_text() == "called\n"


def test_each_load_gets_its_own_module(tmp_path: Path, params: dict[str, Any]) -> None:
    path = write(
        tmp_path, "n = []\ndef reward_function(params):\n    n.append(1)\n    return len(n)\n"
    )
    a, b = load_reward_function(path), load_reward_function(path)
    assert a(params, 1) == 1.0 and a(params, 2) == 2.0 and b(params, 1) == 1.0
    assert a.module.__name__ != b.module.__name__


@pytest.mark.parametrize(
    ("expr", "expected"),
    [("True", 1.0), ("False", 0.0), ("3", 3.0), ("np.float32(0.5)", 0.5), ("np.array([2.0])", 2.0)],
)
def test_accepted_numbers(
    tmp_path: Path, params: dict[str, Any], expr: str, expected: float
) -> None:
    rf = load_reward_function(
        write(tmp_path, f"import numpy as np\ndef reward_function(params):\n    return {expr}\n")
    )
    value = rf(params, 1)
    assert value == expected and type(value) is float


# ------------------------------------------------------------------------ errors at call time
def test_exception_names_file_line_type_step_and_params(
    tmp_path: Path, params: dict[str, Any]
) -> None:
    path = write(
        tmp_path,
        """
        def helper(params):
            return 1.0 / (params["speed"] - 1.0)  # boom

        def reward_function(params):
            return helper(params)
        """,
    )
    rf = load_reward_function(path)
    with pytest.raises(RewardFunctionError) as info:
        rf(params, 17)
    msg = str(info.value)
    line = line_of(path, "# boom")
    assert f"{path}:{line}" in msg
    assert "ZeroDivisionError" in msg and "division by zero" in msg
    assert "step 17" in msg
    assert "1.0 / (params" in msg  # the source line
    assert "progress" in msg and "(61 points)" in msg  # params, waypoints abbreviated
    assert info.value.line == line and info.value.step == 17 and info.value.path == path
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_exception_inside_a_library_points_at_the_call_in_the_file(
    tmp_path: Path, params: dict[str, Any]
) -> None:
    path = write(
        tmp_path,
        """
        import math

        def reward_function(params):
            return math.sqrt(-params["speed"])  # here
        """,
    )
    with pytest.raises(RewardFunctionError, match=rf"{path}:{line_of(path, '# here')}: ValueError"):
        load_reward_function(path)(params, 4)


def test_missing_key_is_reported(tmp_path: Path, params: dict[str, Any]) -> None:
    path = write(tmp_path, "def reward_function(params):\n    return params['no_such_key']\n")
    with pytest.raises(RewardFunctionError, match=rf"{path}:2: KeyError: 'no_such_key'"):
        load_reward_function(path)(params, 2)


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("None", "returned None of type NoneType, not a number"),
        ("'1.0'", "of type str, not a number"),
        ("[1.0]", "of type list, not a number"),
        ("float('nan')", "returned nan"),
        ("float('inf')", "returned inf"),
        ("-1e6", "outside [-100000, 100000]"),
    ],
)
def test_bad_return_values(tmp_path: Path, params: dict[str, Any], expr: str, words: str) -> None:
    path = write(tmp_path, f"import math\n\n\ndef reward_function(params):\n    return {expr}\n")
    with pytest.raises(RewardFunctionError) as info:
        load_reward_function(path)(params, 9)
    msg = str(info.value)
    assert msg.startswith(f"{path}:{line_of(path, 'def reward_function')}: reward_function ")
    assert words in msg and "at step 9" in msg and "track_width" in msg


def test_edge_of_the_reward_range_is_accepted(tmp_path: Path, params: dict[str, Any]) -> None:
    path = write(tmp_path, "def reward_function(params):\n    return -1e5\n")
    assert load_reward_function(path)(params, 1) == -1e5


# ------------------------------------------------------------------------ errors at load time
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RewardLoadError, match=r"nope\.py: reward function file not found"):
        load_reward_function(tmp_path / "nope.py")


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "def reward_function(params):\n    x = (1,\n    return 1.0 +\n")
    with pytest.raises(RewardLoadError) as info:
        load_reward_function(path)
    assert str(info.value).startswith(f"{path}:")
    assert "syntax error" in str(info.value)
    assert info.value.line in (2, 3)


def test_no_reward_function(tmp_path: Path) -> None:
    path = write(tmp_path, "def reward(params):\n    return 1.0\n")
    with pytest.raises(
        RewardLoadError, match=r"reward\.py: defines no function named reward_function"
    ):
        load_reward_function(path)


def test_reward_function_not_callable(tmp_path: Path) -> None:
    with pytest.raises(RewardLoadError, match="not a function"):
        load_reward_function(write(tmp_path, "reward_function = 5\n"))


@pytest.mark.parametrize("signature", ["()", "(params, extra)", "(*, params)"])
def test_wrong_signature(tmp_path: Path, signature: str) -> None:
    path = write(tmp_path, f"import math\n\ndef reward_function{signature}:\n    return 1.0\n")
    line = line_of(path, "def reward_function")
    with pytest.raises(RewardLoadError, match=rf"{path}:{line}: reward_function.* one argument"):
        load_reward_function(path)


def test_flexible_signatures_are_fine(tmp_path: Path, params: dict[str, Any]) -> None:
    path = write(tmp_path, "def reward_function(params, scale=2.0, *rest):\n    return scale\n")
    assert load_reward_function(path)(params, 1) == 2.0


def test_error_while_executing_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "import math\n\nLIMIT = math.sqrt(-1)\n")
    with pytest.raises(RewardLoadError, match=rf"{path}:3: ValueError while loading"):
        load_reward_function(path)


def test_format_params_is_compact(params: dict[str, Any]) -> None:
    text = format_params(params)
    assert len(text.splitlines()) == len(params)
    assert "(61 points)" in text and len(text) < 3000
