"""A vectorised env that steps its envs on several cores: some here, the rest in worker processes.

During rollouts PPO steps every env, then runs the policy on all their observations; the
physics and the camera of one env take about a millisecond on one core, while the learner's
threads wait. :class:`SplitVecEnv` cuts the envs into contiguous groups, one per core: the
first group steps in the trainer's own process, each other group in a forked worker that
holds a :class:`~stable_baselines3.common.vec_env.DummyVecEnv` of its envs. A step sends each
worker its actions, steps the local group meanwhile, then collects the workers' results: one
message each way per worker and step, however many envs the worker holds (SB3's
``SubprocVecEnv`` pays one per env, and a message costs a few hundred microseconds on a
virtual machine).

The envs, their order, seeds and auto-resets are exactly those of a ``DummyVecEnv`` of the
same constructors, so a run gives the same trajectories either way; only the speed differs.
An exception raised in a worker (a broken reward function, a bad track) is raised again here.
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

EnvFn = Callable[[], gym.Env[Any, Any]]
_Request = tuple[str, tuple[Any, ...], dict[str, Any]]
"""A method name of a group's ``DummyVecEnv`` (or ``reset``/``step``), its args and kwargs."""


def split_sizes(n_envs: int, groups: int) -> list[int]:
    """Sizes of ``groups`` contiguous groups of ``n_envs`` envs, as even as possible.

    Args:
        n_envs: Number of envs.
        groups: Number of groups wanted; at most ``n_envs`` are made.
    """
    groups = max(1, min(groups, n_envs))
    base, extra = divmod(n_envs, groups)
    return [base + (1 if i < extra else 0) for i in range(groups)]


def _apply(venv: DummyVecEnv, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run one request on a group's ``DummyVecEnv`` and return what goes back to the caller."""
    if method == "reset":
        venv._seeds, venv._options = list(args[0]), list(args[1])
        return venv.reset(), list(venv.reset_infos)
    if method == "step":
        obs, rewards, dones, infos = venv.step(args[0])
        return obs, rewards, dones, infos, list(venv.reset_infos)
    return getattr(venv, method)(*args, **kwargs)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a ``RuntimeError`` with its type, text and trace."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        trace = "".join(traceback.format_exception(exc))
        return RuntimeError(f"{type(exc).__name__} in an env worker: {exc}\n{trace}")


def _worker(conn: Connection, fns: list[EnvFn]) -> None:
    """A worker's loop: build its group, then answer requests until ``close``."""
    # Ctrl-C and SIGTERM go to the trainer, which stops, saves and closes the workers; a
    # worker that died first would lose the step in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        venv = DummyVecEnv(fns)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the trainer
        conn.send((False, _portable(exc)))
        return
    conn.send((True, None))
    while True:
        try:
            method, args, kwargs = conn.recv()
        except (EOFError, OSError):  # the trainer is gone
            venv.close()
            return
        try:
            conn.send((True, _apply(venv, method, args, kwargs)))
        except BaseException as exc:  # noqa: BLE001
            conn.send((False, _portable(exc)))
        if method == "close":
            return


class _Remote:
    """The trainer's end of one worker."""

    def __init__(self, fns: list[EnvFn], context: multiprocessing.context.BaseContext) -> None:
        self.size = len(fns)
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, fns), daemon=True)  # type: ignore[attr-defined]
        self.process.start()
        child.close()
        self.pending = True  # the "ready" message

    def send(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Start a request."""
        self.conn.send((method, args, kwargs))
        self.pending = True

    def recv(self) -> Any:
        """The answer to the request in flight; a worker's exception is raised here."""
        try:
            ok, value = self.conn.recv()
        except EOFError:
            raise RuntimeError(
                f"an env worker (pid {self.process.pid}) died: exit code {self.process.exitcode}"
            ) from None
        finally:
            self.pending = False
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Drain any answer in flight, ask the worker to stop, and reap it."""
        try:
            if self.pending:
                self.recv()
        except Exception:  # noqa: BLE001 - closing: the answer no longer matters
            pass
        try:
            self.send("close")
            self.recv()
        except Exception:  # noqa: BLE001 - a worker that is already gone is closed
            pass
        self.conn.close()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()


class _Local:
    """The group that steps in the trainer's process, behind the same interface as a worker."""

    def __init__(self, fns: list[EnvFn]) -> None:
        self.size = len(fns)
        self.venv = DummyVecEnv(fns)
        self.request: _Request = ("close", (), {})

    def send(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Remember the request; it runs in :meth:`recv`, while the workers run theirs."""
        self.request = (method, args, kwargs)

    def recv(self) -> Any:
        """Run the remembered request."""
        method, args, kwargs = self.request
        return _apply(self.venv, method, args, kwargs)

    def close(self) -> None:
        """Close the group's envs."""
        self.venv.close()


def _ask_parts(asked: list[tuple[_Local | _Remote, _Request]]) -> list[Any]:
    """Send each part its request (workers first, so they start at once); their answers.

    The first failure is raised once all parts have answered, so that no answer is left in a
    pipe to be taken for the answer to the next request.
    """
    for part, (method, args, kwargs) in reversed(asked):
        part.send(method, *args, **kwargs)
    answers: list[Any] = []
    failure: BaseException | None = None
    for part, _ in asked:
        try:
            answers.append(part.recv())
        except BaseException as exc:  # noqa: BLE001 - raised below, after the others
            failure = failure or exc
            answers.append(None)
    if failure is not None:
        raise failure
    return answers


class SplitVecEnv(VecEnv):
    """Envs in contiguous groups: the first here, each other in a worker process.

    Args:
        env_fns: One constructor per env, as for ``DummyVecEnv``.
        processes: Groups to cut the envs into (cores to use for them); the trainer's process
            takes the first group, so ``processes - 1`` workers are started. At most one group
            per env; 1 is a ``DummyVecEnv`` with no worker. A daemonic process cannot start
            workers, so there every env steps here.
    """

    def __init__(self, env_fns: Sequence[EnvFn], processes: int = 2) -> None:
        fns = list(env_fns)
        if multiprocessing.current_process().daemon:
            processes = 1
        ends = np.cumsum(split_sizes(len(fns), processes)).tolist()
        self._bounds: list[tuple[int, int]] = list(zip([0, *ends[:-1]], ends, strict=True))
        groups = [fns[a:b] for a, b in self._bounds]
        context = multiprocessing.get_context("fork")
        self._remotes = [_Remote(g, context) for g in groups[1:]]
        try:
            for remote in self._remotes:
                remote.recv()
            self._local = _Local(groups[0])
        except BaseException:
            for remote in self._remotes:
                remote.close()
            raise
        self._parts: list[_Local | _Remote] = [self._local, *self._remotes]
        self._actions: np.ndarray = np.empty(0)
        self.closed = False
        local = self._local.venv
        super().__init__(len(fns), local.observation_space, local.action_space)
        self.render_mode = local.render_mode

    @property
    def processes(self) -> int:
        """Processes stepping the envs, this one included."""
        return len(self._parts)

    def _ask(self, requests: list[_Request]) -> list[Any]:
        """One request per part; the parts' answers in order."""
        return _ask_parts(list(zip(self._parts, requests, strict=True)))

    def _slices(self, values: Sequence[Any] | np.ndarray) -> list[Any]:
        """``values`` (one per env) cut into the parts' shares."""
        return [values[a:b] for a, b in self._bounds]

    @staticmethod
    def _join_obs(parts: list[Any]) -> VecEnvObs:
        """The parts' observations (arrays, or dicts of arrays) as one batch, in env order."""
        first = parts[0]
        if isinstance(first, dict):
            return {k: np.concatenate([p[k] for p in parts]) for k in first}
        return np.concatenate(parts)

    def reset(self) -> VecEnvObs:
        """Reset every env with the seeds and options set since the last reset."""
        shares = zip(self._slices(self._seeds), self._slices(self._options), strict=True)
        answers = self._ask([("reset", (s, o), {}) for s, o in shares])
        self.reset_infos = [info for _, infos in answers for info in infos]
        self._reset_seeds()
        self._reset_options()
        return self._join_obs([obs for obs, _ in answers])

    def step_async(self, actions: np.ndarray) -> None:
        """Keep the actions; :meth:`step_wait` hands each group its share."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step every group at once and join their results in env order."""
        answers = self._ask([("step", (a,), {}) for a in self._slices(self._actions)])
        obs = self._join_obs([a[0] for a in answers])
        rewards = np.concatenate([a[1] for a in answers])
        dones = np.concatenate([a[2] for a in answers])
        infos = [info for a in answers for info in a[3]]
        self.reset_infos = [info for a in answers for info in a[4]]
        return obs, rewards, dones, infos

    def close(self) -> None:
        """Close the local envs and stop the workers."""
        if self.closed:
            return
        self.closed = True
        for part in self._parts:
            part.close()

    def _local_indices(self, indices: VecEnvIndices) -> list[list[int]]:
        """``indices`` as each part's own env indices."""
        wanted = set(self._get_indices(indices))
        return [[i - a for i in range(a, b) if i in wanted] for a, b in self._bounds]

    def _per_part(self, method: str, indices: VecEnvIndices, *args: Any, **kw: Any) -> list[Any]:
        """Call a ``DummyVecEnv`` method on the parts that hold envs of ``indices``."""
        asked = [
            (part, (method, args, {**kw, "indices": local}))
            for part, local in zip(self._parts, self._local_indices(indices), strict=True)
            if local
        ]
        return [value for answer in _ask_parts(asked) for value in answer or ()]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """An attribute of each env in ``indices``."""
        return self._per_part("get_attr", indices, attr_name)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute on each env in ``indices``."""
        self._per_part("set_attr", indices, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **kwargs: Any
    ) -> list[Any]:
        """Call a method of each env in ``indices``; their results in env order."""
        return self._per_part("env_method", indices, method_name, *method_args, **kwargs)

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]], indices: VecEnvIndices = None
    ) -> list[bool]:
        """Whether each env in ``indices`` is wrapped in ``wrapper_class``."""
        return self._per_part("env_is_wrapped", indices, wrapper_class)

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Each env's rendered image, in env order."""
        answers = self._ask([("get_images", (), {})] * len(self._parts))
        return [image for images in answers for image in images]
