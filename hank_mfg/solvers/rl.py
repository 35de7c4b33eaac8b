"""Model-free baselines learning from sampled agents: IPPO, recurrent IPPO and M-OMD (docs/games.md §5).

These learners never call the transition or the reward functions themselves: they see, for
``n_agents`` simulated agents on each of ``n_envs`` common-noise paths, the agents' states,
actions, rewards and the public observations (:func:`~hank_mfg.solvers.population.simulate_population`).
Their policies are the same networks as RSPG's and SPG's, so the exact exploitability
(:func:`~hank_mfg.metrics.exploitability.exploitability`) evaluates them like any other policy,
and :func:`~hank_mfg.solvers.rspg.solve` drives, evaluates, checkpoints and resumes them.

* ``ippo``: independent PPO with a memoryless actor (the SPG network on the current observation
  and date) and a memoryless critic; GAE(``gae_lambda``) advantages, the clipped surrogate,
  an entropy bonus.
* ``rippo``: the same with recurrent actor and critic: a GRU over the public observation history
  (the RSPG network).
* ``m-omd``: Munchausen online mirror descent (Laurière et al. 2022). A Q-network
  ``Q_t(s, a) = tau * logits`` whose softmax is the policy, regressed on
  ``r + alpha tau log pi(a|s) + beta sum_a' pi(a'|s') (Q^-(s', a') - tau log pi(a'|s'))``
  with ``Q^-`` the network of the previous iteration: the Munchausen term accumulates past
  Q-functions, so the policy follows mirror descent's ``pi_k ∝ exp(sum_j q_j / tau)``.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from ..operators.compile import AnyMeanField, compile_model
from ..policies.networks import ACTIVATIONS, AbstractPolicy, head_layer, make_policy
from .population import simulate_population
from .rollout import replay_tables
from .training import (
    DiscreteEvaluation, guarded_steps, iteration_key, run_keys, trainable_filter,
)

__all__ = ["RL_METHODS", "RLConfig", "RLRun", "gae", "init_networks", "value_tables"]

#: The model-free methods and the network (``rspg``: recurrent, ``spg``: memoryless) of each.
RL_METHODS = {"ippo": "spg", "rippo": "rspg", "m-omd": "spg"}


@dataclasses.dataclass(frozen=True)
class RLConfig:
    """Training configuration of the model-free baselines (defaults after the paper's library).

    Args:
        iterations: learning updates; each simulates ``n_envs`` paths of ``n_agents`` agents and
            takes ``epochs x minibatches`` Adam steps on them (200).
        n_envs: common-noise paths per update (16). n_agents: sampled agents per path (128).
        epochs, minibatches: passes over an update's samples and the number of path groups each
            pass is split into (4, 4).
        lr, lr_final: Adam learning rate, annealed linearly (1e-2 -> 1e-3). clip_norm: 1.0.
        clip_eps: PPO's ratio clip (0.2). gae_lambda: 0.95. ent_coef: entropy bonus (0.01).
        vf_coef: weight of the critic's loss (0.5).
        tau, alpha, log_floor: M-OMD's temperature (0.1), Munchausen weight (0.9) and the floor
            of the Munchausen log-probability (-1).
        hidden, widths, activation: the networks (64, (64, 64), relu).
        eval_every, eval_paths, seed, checkpoint_every: as in
            :class:`~hank_mfg.solvers.rspg.RSPGConfig`.
    """

    iterations: int = 200
    n_envs: int = 16
    n_agents: int = 128
    epochs: int = 4
    minibatches: int = 4
    lr: float = 1e-2
    lr_final: float = 1e-3
    clip_norm: float = 1.0
    clip_eps: float = 0.2
    gae_lambda: float = 0.95
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    tau: float = 0.1
    alpha: float = 0.9
    log_floor: float = -1.0
    hidden: int = 64
    widths: tuple = (64, 64)
    activation: str = "relu"
    eval_every: int = 20
    eval_paths: int = 8
    seed: int = 0
    checkpoint_every: int = 1

    def __post_init__(self):
        def bad(name, want):
            raise ValueError(f"RLConfig.{name} must be {want}; got {getattr(self, name)!r}")

        for name in ("iterations", "n_envs", "n_agents", "epochs", "minibatches", "hidden",
                     "eval_every", "eval_paths", "checkpoint_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(name, "a positive integer")
        if self.n_envs % self.minibatches:
            bad("minibatches", f"a divisor of n_envs = {self.n_envs}")
        for name in ("lr", "lr_final", "clip_norm", "clip_eps", "tau"):
            if not (isinstance(getattr(self, name), (int, float)) and getattr(self, name) > 0):
                bad(name, "a positive number")
        for name in ("gae_lambda", "alpha"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                bad(name, "in [0, 1]")
        for name in ("ent_coef", "vf_coef"):
            if not getattr(self, name) >= 0.0:
                bad(name, "non-negative")
        if self.activation not in ACTIVATIONS:
            bad("activation", f"one of {sorted(ACTIVATIONS)}")
        if len(self.widths) < 1 or any(int(w) < 1 for w in self.widths):
            bad("widths", "a non-empty tuple of positive ints")
        if not isinstance(self.seed, int):
            bad("seed", "an integer")

    @classmethod
    def for_method(cls, method: str, **overrides) -> "RLConfig":
        """The defaults of ``method``: M-OMD regresses its Q-network harder on each update
        (8 epochs) at the temperature ``tau`` 10; PPO keeps the class defaults. ``overrides``
        replace any field."""
        base = dict(epochs=8, tau=10.0) if method == "m-omd" else {}
        return cls(**(base | overrides))

    def architecture(self) -> dict:
        return dict(hidden=self.hidden, widths=tuple(self.widths), activation=self.activation,
                    head="categorical", head_scale=1.0)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["widths"] = list(self.widths)
        return d


# ---- networks ------------------------------------------------------------------------------------
def init_networks(mf: AnyMeanField, method: str, config: RLConfig, key):
    """``(actor, critic)``: the actor is the RSPG (``rippo``) or SPG network with a categorical
    head; the critic the same network with one output per state (IPPO, RIPPO); M-OMD has no
    critic (``None``): its actor's logits are ``Q / tau``."""
    k_actor, k_critic, k_head = jax.random.split(key, 3)
    kind = RL_METHODS[method]
    actor = make_policy(mf, kind, key=k_actor, **config.architecture())
    if method == "m-omd":
        return actor, None
    critic = make_policy(mf, kind, key=k_critic, **config.architecture())
    critic = eqx.tree_at(lambda p: p.trunk.head, critic,
                         head_layer(critic.trunk.head.in_features, 1, 1.0, k_head))
    return actor, critic


def _outputs(net: AbstractPolicy, obs):
    """The network's raw head outputs in every state at every date ``(T, n_s, n_out)``."""
    cache = net.prepare()

    def body(carry, xs):
        o, t = xs
        carry, h = net.encode(carry, o, t)
        return carry, net.trunk.outputs(cache, h)

    _, out = jax.lax.scan(body, net.init_carry(), (obs, jnp.arange(obs.shape[0])))
    return out


def value_tables(critic: AbstractPolicy, obs) -> jax.Array:
    """The critic's value of every state at every date of a path ``(T, n_s)``."""
    return _outputs(critic, obs)[..., 0]


def gae(rewards, values, next_values, gamma, lam):
    """Generalised advantage estimates and returns along the date axis (axis 0; the episode
    ends after the last date, where ``next_values`` must be zero)."""
    delta = rewards + gamma * next_values - values

    def body(acc, d):
        acc = d + gamma * lam * acc
        return acc, acc

    _, adv = jax.lax.scan(body, jnp.zeros_like(delta[0]), delta, reverse=True)
    return adv, adv + values


def _gather(tables, states):
    """``tables[b, t, states[b, t, i]]`` for tables ``(B, T, n_s, ...)`` and states ``(B, T, N)``."""
    return jax.vmap(jax.vmap(lambda tab, s: tab[s]))(tables, states)


def _next_values(tables, next_states):
    """Each agent's value of its next state at the next date, zero after the last date:
    ``tables[b, t + 1, next_states[b, t, i]]`` from tables ``(B, T, n_s)``."""
    v = _gather(tables[:, 1:], next_states[:, :-1])
    return jnp.concatenate([v, jnp.zeros_like(v[:, :1])], axis=1)


# ---- one learning update ---------------------------------------------------------------------------
def _simulate(mf, actor, config, key):
    k_noise, k_agents = jax.random.split(key)
    eps = mf.sample_noise(key=k_noise, n_paths=config.n_envs)
    keys = jax.random.split(k_agents, config.n_envs)
    return jax.vmap(lambda e, k: simulate_population(mf, actor, e, key=k,
                                                     n_agents=config.n_agents))(eps, keys)


def _ppo_loss(params, static, batch, config: RLConfig):
    actor, critic = eqx.combine(params, static)
    obs, s, a, old_lp, adv, ret = batch
    P = jax.vmap(lambda o: replay_tables(actor, o))(obs)              # (b, T, n_s, n_a)
    logP = jnp.log(jnp.maximum(P, 1e-30))
    rows = _gather(logP, s)                                            # (b, T, N, n_a)
    lp = jnp.take_along_axis(rows, a[..., None], axis=-1)[..., 0]
    adv = (adv - jnp.mean(adv)) / (jnp.std(adv) + 1e-8)
    ratio = jnp.exp(lp - old_lp)
    clipped = jnp.clip(ratio, 1.0 - config.clip_eps, 1.0 + config.clip_eps)
    policy_loss = -jnp.mean(jnp.minimum(ratio * adv, clipped * adv))
    entropy = -jnp.mean(jnp.sum(jnp.exp(rows) * rows, axis=-1))
    v = _gather(jax.vmap(lambda o: value_tables(critic, o))(obs), s)
    value_loss = 0.5 * jnp.mean((v - ret) ** 2)
    return policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy


def _ppo_batch(mf, params, static, config, key):
    actor, critic = eqx.combine(jax.lax.stop_gradient(params), static)
    pop = _simulate(mf, actor, config, key)
    V = jax.vmap(lambda o: value_tables(critic, o))(pop.obs)          # (B, T, n_s)
    v = _gather(V, pop.states)
    v_next = _next_values(V, pop.next_states)
    beta = mf.model.beta
    adv, ret = jax.vmap(lambda r, v, vn: gae(r, v, vn, beta, config.gae_lambda))(
        pop.rewards, v, v_next)
    return (pop.obs, pop.states, pop.actions, pop.log_prob, adv, ret), pop


def _momd_loss(params, static, batch, config: RLConfig):
    (actor,) = eqx.combine(params, static)
    obs, s, a, target = batch
    q = config.tau * jax.vmap(lambda o: _outputs(actor, o))(obs)      # (b, T, n_s, n_a)
    q_sa = jnp.take_along_axis(_gather(q, s), a[..., None], axis=-1)[..., 0]
    return 0.5 * jnp.mean((q_sa - target) ** 2)


def _momd_batch(mf, params, static, config, key):
    (actor,) = eqx.combine(jax.lax.stop_gradient(params), static)
    pop = _simulate(mf, actor, config, key)
    tau = config.tau
    q = tau * jax.vmap(lambda o: _outputs(actor, o))(pop.obs)          # the previous Q^-
    logpi = jax.nn.log_softmax(q / tau, axis=-1)
    pi = jnp.exp(logpi)
    soft_v = jnp.sum(pi * (q - tau * logpi), axis=-1)                 # (B, T, n_s)
    v_next = _next_values(soft_v, pop.next_states)
    lp = jnp.take_along_axis(_gather(logpi, pop.states), pop.actions[..., None], axis=-1)[..., 0]
    bonus = config.alpha * tau * jnp.maximum(lp, config.log_floor)
    target = pop.rewards + bonus + mf.model.beta * v_next
    return (pop.obs, pop.states, pop.actions, jax.lax.stop_gradient(target)), pop


_METHOD_STEPS = {"ippo": (_ppo_batch, _ppo_loss), "rippo": (_ppo_batch, _ppo_loss),
                 "m-omd": (_momd_batch, _momd_loss)}


def optimizer(config: RLConfig, schedule_iterations: int):
    steps = schedule_iterations * config.epochs * config.minibatches
    schedule = optax.linear_schedule(config.lr, config.lr_final, steps)
    return optax.chain(optax.clip_by_global_norm(config.clip_norm), optax.adam(schedule))


@eqx.filter_jit
def train_chunk(params, static, opt_state, mf: AnyMeanField, config_static, start, n_steps_arr):
    """``len(n_steps_arr)`` learning updates under one ``lax.scan``: simulate, then
    ``epochs x minibatches`` Adam steps on groups of paths. Returns ``(params, opt_state,
    losses, finite, grad_norms)`` as the RSPG chunk does."""
    config, method, base_key = config_static
    make_batch, loss_fn = _METHOD_STEPS[method]
    opt = optimizer(config, config.iterations)
    size = config.n_envs // config.minibatches

    def update(params, opt_state, i):
        k_sim, k_perm = jax.random.split(iteration_key(base_key, i))
        batch, pop = make_batch(mf, params, static, config, k_sim)

        def epoch(carry, k):
            params, opt_state = carry
            order = jax.random.permutation(k, config.n_envs).reshape(config.minibatches, size)

            def minibatch(carry, rows):
                params, opt_state = carry
                mb = jax.tree_util.tree_map(lambda x: x[rows], batch)
                loss, grads = jax.value_and_grad(loss_fn)(params, static, mb, config)
                updates, opt_state = opt.update(grads, opt_state, params)
                gnorm = optax.tree.norm(grads)
                return (eqx.apply_updates(params, updates), opt_state), (loss, gnorm)

            return jax.lax.scan(minibatch, (params, opt_state), order)

        (new_params, new_opt), (loss, gnorm) = jax.lax.scan(
            epoch, (params, opt_state), jax.random.split(k_perm, config.epochs))
        return (new_params, new_opt, jnp.mean(loss), mf.prices_finite(pop.agg),
                jnp.max(gnorm))

    return guarded_steps(update, params, opt_state, start, n_steps_arr)


class RLRun(DiscreteEvaluation):
    """A model-free baseline for the training loop of :func:`~hank_mfg.solvers.rspg.solve`:
    the same evaluations (exact exploitability on fixed paths), checkpoints and history."""

    def __init__(self, model, method, config: RLConfig):
        self.problem = mf = compile_model(model)
        self.method = method
        k_init, self.k_train, k_eval = run_keys(config)
        nets = tuple(n for n in init_networks(mf, method, config, k_init) if n is not None)
        self.params, self.static = eqx.partition(nets, tuple(trainable_filter(n) for n in nets))
        self.opt_state = optimizer(config, config.iterations).init(self.params)
        self.eval_eps = mf.sample_noise(key=k_eval, n_paths=config.eval_paths)
        self.n_paths = config.n_envs

    def policy(self, params) -> AbstractPolicy:
        return eqx.combine(params, self.static)[0]  # the actor

    def train_chunk(self, params, opt_state, config, it, steps):
        return train_chunk(params, self.static, opt_state, self.problem,
                           (config, self.method, self.k_train), it, steps)
