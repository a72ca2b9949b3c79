"""The seeded second-by-second market generator: prices, flow, OI, funding, liquidations."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from xray_contracts.raw_market_event import RawMarketEvent

from xray_simulator import frames
from xray_simulator.config import REFERENCE_SYMBOL, WINDOW_MS, SimulatorConfig
from xray_simulator.regimes import RegimeDynamics, dynamics_for
from xray_simulator.schedule import WindowLabel, regime_schedule, symbol_rng

_OU_THETA = 1.0 / 60.0  # pull per second towards the anchor in the chop regimes
_WICK_RISE_S = 8
_WICK_FALL_S = 25
_WICK_SIZE = 0.009  # stop-hunt wick height as a fraction of price (times the symbol's vol factor)
_OI_NOISE = 5e-5
_FUNDING_NOISE = 2e-7
_BARS_PER_S = 1.0 / 180.0


@dataclass(frozen=True, slots=True)
class SimFrame:
    """One received frame: receive time (ns), frame text as on the wire, the events it decodes to."""

    recv_ns: int
    symbol: str
    payload: bytes
    events: tuple[RawMarketEvent, ...]


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """Static traits of one simulated instrument."""

    symbol: str
    price: float
    price_decimals: int
    qty_decimals: int
    mean_qty: float
    activity: float
    vol_factor: float
    beta: float
    open_interest: float


def _decimals(price: float) -> int:
    """Quote decimals by price level, like Binance tick sizes."""
    if price >= 1000:
        return 2
    if price >= 10:
        return 3
    if price >= 1:
        return 4
    return 5


def symbol_profile(config: SimulatorConfig, symbol: str, index: int) -> SymbolProfile:
    """Deterministic traits: BTC is the reference; alts get a price level, beta and volatility."""
    if symbol == REFERENCE_SYMBOL:
        price, activity, vol, beta, oi_notional = 60_000.0, 2.0, 1.0, 1.0, 4.0e9
    else:
        rng = symbol_rng(config, symbol, "profile")
        price = 3000.0 if symbol == "ETHUSDT" else 10 ** rng.uniform(-1.0, 2.5)
        activity = 1.5 if index == 1 else 1.0
        vol = 1.1 + 0.4 * rng.random()
        beta = 0.6 + 0.8 * rng.random()
        oi_notional = 1.0e9 if symbol == "ETHUSDT" else 1.0e8
    mean_qty = 2500.0 / price
    qty_decimals = 3 if mean_qty < 10 else (1 if mean_qty < 1000 else 0)
    return SymbolProfile(
        symbol,
        price,
        _decimals(price),
        qty_decimals,
        mean_qty,
        activity * config.activity,
        vol,
        beta,
        oi_notional / price,
    )


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's Poisson sampler (rates here are small)."""
    if lam <= 0.0:
        return 0
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class _SymbolSim:
    """Mutable per-symbol generator state (internal; advanced one second at a time)."""

    def __init__(self, config: SimulatorConfig, profile: SymbolProfile, labels: tuple[WindowLabel, ...]):
        self.config = config
        self.p = profile
        self.labels = labels
        self.rng = symbol_rng(config, profile.symbol, "market")
        self.log_price = math.log(profile.price)
        self.anchor = self.log_price
        self.oi = profile.open_interest
        self.funding = 0.0001
        self.agg_id = 1_000_000
        self.book_id = 5_000_000
        self.tick = 10.0**-profile.price_decimals
        self.sigma = config.base_vol_per_s * profile.vol_factor
        self.current: WindowLabel | None = None
        self.dyn: RegimeDynamics = dynamics_for("CHOP_BALANCED")
        self.wick_start = -1
        self.wick_dir = 1

    def _enter_window(self, label: WindowLabel) -> None:
        """Switch dynamics at a window start; re-anchor when the segment changes."""
        previous = self.current
        self.current = label
        self.dyn = dynamics_for(label.regime)
        if previous is None or previous.regime != label.regime or previous.direction != label.direction:
            self.anchor = self.log_price
        if self.dyn.stop_hunt:
            self.wick_start = self.rng.randint(40, 110)
            self.wick_dir = 1 if self.rng.random() < 0.5 else -1
        else:
            self.wick_start = -1

    def _wick(self, second_in_window: int) -> tuple[float, float]:
        """(log-price excursion, buy-probability shift) of the stop-hunt wick at this second."""
        if self.wick_start < 0:
            return 0.0, 0.0
        tau = second_in_window - self.wick_start
        size = _WICK_SIZE * self.p.vol_factor * self.wick_dir
        if 0 <= tau < _WICK_RISE_S:
            return size * (tau + 1) / _WICK_RISE_S, 0.3 * self.wick_dir
        if _WICK_RISE_S <= tau < _WICK_RISE_S + _WICK_FALL_S:
            return size * (1.0 - (tau - _WICK_RISE_S + 1) / _WICK_FALL_S), -0.2 * self.wick_dir
        return 0.0, 0.0

    def step(self, second: int, btc_shock: float, out: list[SimFrame]) -> float:
        """Advance one second, append this second's frames to `out`; return this symbol's shock."""
        if second % 180 == 0:
            self._enter_window(self.labels[second // 180])
        assert self.current is not None
        dyn, rng, prof = self.dyn, self.rng, self.p
        direction = self.current.direction
        shock = self.sigma * dyn.vol_mult * rng.gauss(0.0, 1.0)
        if dyn.mean_reverting:
            self.log_price += _OU_THETA * (self.anchor - self.log_price) + shock
        else:
            self.log_price += dyn.drift_per_bar * _BARS_PER_S * direction + shock
        if prof.symbol != REFERENCE_SYMBOL:
            self.log_price += prof.beta * btc_shock
        excursion, buy_shift = self._wick(second % 180)
        price = math.exp(self.log_price + excursion)
        sign = direction if direction else 1
        self.oi *= 1.0 + dyn.oi_per_bar * _BARS_PER_S + _OI_NOISE * rng.gauss(0.0, 1.0)
        target = dyn.funding_target * sign
        self.funding += (target - self.funding) / dyn.funding_tau_s + _FUNDING_NOISE * rng.gauss(0.0, 1.0)

        t0 = self.config.start_ms + second * 1000
        sym = prof.symbol
        pd = prof.price_decimals
        qd = prof.qty_decimals
        tick = self.tick
        buy_prob = 0.5 + (dyn.buy_prob - 0.5) * direction + buy_shift
        rate = dyn.trade_rate * prof.activity * (4.0 if buy_shift else 1.0)
        for offset in sorted(rng.randrange(950) for _ in range(_poisson(rng, rate))):
            is_sell = rng.random() >= buy_prob
            px = f"{price - tick if is_sell else price + tick:.{pd}f}"
            qty = f"{max(prof.mean_qty * math.exp(0.8 * rng.gauss(0.0, 1.0) - 0.32), 10.0**-qd):.{qd}f}"
            ts = t0 + offset
            recv = ts + 1 + rng.randrange(48)
            self.agg_id += 1
            payload, events = frames.agg_trade(sym, self.agg_id, self.agg_id * 3, px, qty, ts, is_sell, recv)
            out.append(SimFrame(recv * 1_000_000 + rng.randrange(1_000_000), sym, payload, events))

        wick_liq = 0.15 if buy_shift > 0.1 else 0.0
        liq_rate = (self.config.background_liq_rate + dyn.liq_rate + wick_liq) * prof.activity
        for _ in range(_poisson(rng, liq_rate)):
            if dyn.liq_rate > 0.0:
                side_buy = direction > 0
            elif buy_shift:
                side_buy = self.wick_dir > 0
            else:
                side_buy = rng.random() < 0.5
            mult = dyn.liq_qty_mult if dyn.liq_rate > 0.0 else 2.0
            qty = f"{max(prof.mean_qty * mult * math.exp(0.6 * rng.gauss(0.0, 1.0)), 10.0**-qd):.{qd}f}"
            px = f"{price * (1.001 if side_buy else 0.999):.{pd}f}"
            ts = t0 + rng.randrange(950)
            recv = ts + 1 + rng.randrange(48)
            payload, events = frames.force_order(sym, side_buy, px, qty, ts, recv)
            out.append(SimFrame(recv * 1_000_000 + rng.randrange(1_000_000), sym, payload, events))

        if second % self.config.book_interval_s == 0:
            ts = t0 + rng.randrange(950)
            recv = ts + 3 + rng.randrange(46)
            self.book_id += 7
            half = max(tick, price * 5e-6)
            payload, events = frames.book_ticker(
                sym,
                self.book_id,
                f"{price - half:.{pd}f}",
                f"{prof.mean_qty * (1 + 9 * rng.random()):.{qd}f}",
                f"{price + half:.{pd}f}",
                f"{prof.mean_qty * (1 + 9 * rng.random()):.{qd}f}",
                ts,
                recv,
            )
            out.append(SimFrame(recv * 1_000_000 + rng.randrange(1_000_000), sym, payload, events))

        if second % self.config.mark_interval_s == 0:
            recv = t0 + 1 + rng.randrange(48)
            payload, events = frames.mark_price(
                sym,
                f"{price * (1 + 0.2 * self.funding):.8f}",
                f"{price * (1 - 0.3 * self.funding):.8f}",
                f"{self.funding:.8f}",
                t0,
                recv,
            )
            out.append(SimFrame(recv * 1_000_000 + rng.randrange(1_000_000), sym, payload, events))

        if second % self.config.oi_interval_s == 0:
            ts = t0 + 5
            recv = ts + 20 + rng.randrange(25)
            payload, events = frames.open_interest(sym, f"{self.oi:.3f}", ts, recv)
            out.append(SimFrame(recv * 1_000_000 + rng.randrange(1_000_000), sym, payload, events))
        return shock


def iter_frames(config: SimulatorConfig) -> Iterator[SimFrame]:
    """Every frame of the run in receive-time order (ties broken by symbol order, then emission)."""
    sims = [
        _SymbolSim(config, symbol_profile(config, s, i), regime_schedule(config, s))
        for i, s in enumerate(config.symbols)
    ]
    reference = next((sim for sim in sims if sim.p.symbol == REFERENCE_SYMBOL), None)
    others = [sim for sim in sims if sim is not reference]
    total_seconds = config.windows * WINDOW_MS // 1000
    for second in range(total_seconds):
        batch: list[SimFrame] = []
        btc_shock = reference.step(second, 0.0, batch) if reference is not None else 0.0
        for sim in others:
            sim.step(second, btc_shock, batch)
        # Every frame of second s is received in (s, s+1) s, so sorting one second at a time is global.
        batch.sort(key=lambda f: f.recv_ns)
        yield from batch


def iter_events(config: SimulatorConfig) -> Iterator[RawMarketEvent]:
    """Every RawMarketEvent of the run, in receive order."""
    for frame in iter_frames(config):
        yield from frame.events


def recording_line(frame: SimFrame) -> bytes:
    """`<recv ns> <frame>` as in the real recordings (no trailing newline)."""
    return b"%d %s" % (frame.recv_ns, frame.payload)
