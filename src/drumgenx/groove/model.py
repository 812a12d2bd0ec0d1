"""GrooVAE in PyTorch: Magenta's ``groovae_2bar_humanize`` model, and the inference API.

Architecture (Magenta ``music_vae``: ``BidirectionalLstmEncoder``, ``GrooveLstmDecoder``,
``MusicVAE`` in ``base_model.py``), per 2-bar window of 32 steps x 27 values
(`representation.groove_to_tensor`):

- **Encoder**: one bidirectional LSTM layer; the last forward and last backward hidden states,
  concatenated, give ``mu`` (linear) and ``sigma`` (softplus of a linear) of a diagonal
  Gaussian posterior over ``z``.
- **Decoder**: ``z`` sets every decoder LSTM layer's initial state (``tanh`` of one linear
  layer); at each step the decoder reads the previous step's 27 values (zeros before the
  first) with ``z`` appended, and a linear layer gives 27 outputs: hit logits (sigmoid),
  velocities (sigmoid) and offsets x 2 (tanh). Training is teacher-forced on the target
  (Magenta's default ``sampling_rate`` 0).
- **Dropout** on the input of every LSTM layer (TF ``DropoutWrapper(input_keep_prob)``).
- **Loss** per window: hit cross-entropy + velocity squared error + offset squared error,
  summed over the 9 classes and 32 steps, on every cell (no mask: where there is no hit the
  targets are 0) as ``GrooveLstmDecoder._flat_reconstruction_loss``; plus
  ``beta * max(KL - free_bits * ln 2, 0)`` with the KL summed over ``z`` (base_model.py).
  Both are averaged over the batch.

The two tasks differ only in the encoder's input: ``humanize`` sees hits with velocities and
offsets zeroed (Magenta's converter ``humanize=True``), ``vary`` sees the whole groove.

Two things at inference are ours: humanize decodes with the given hits read back at each step
(the hits are known, so they are kept), and a hit's velocity and offset are read as the
model's estimate *given* the hit (`GrooVAE.generate`, ``hit_conditional``).

`GrooveModel` wraps a trained network for inference on numpy arrays. This module imports
torch; import it only when a model is needed.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from drumgenx.core.errors import DrumgenxError
from drumgenx.groove.files import CONFIG_FILE as CONFIG_FILE  # re-exported: train, tests
from drumgenx.groove.files import LOG_FILE as LOG_FILE
from drumgenx.groove.files import MODEL_FILE as MODEL_FILE
from drumgenx.groove.files import WEIGHTS_DIR as WEIGHTS_DIR
from drumgenx.groove.files import model_folder
from drumgenx.groove.representation import NUM_CLASSES, WINDOW_STEPS

TASKS: tuple[str, ...] = ("humanize", "vary")
FORMAT = "drumgenx-groovae"  # config.json "format"; "format_version" below
FORMAT_VERSION = 1
SIGMA_FLOOR = 1e-6  # keeps log(sigma) finite where softplus underflows (not in Magenta)
HIT_PROBABILITY_FLOOR = 1e-3  # a hit the model gives ~0 chance: its ratio is clipped anyway


class GrooveModelError(DrumgenxError):
    """A GrooVAE weights folder that is missing, incomplete or corrupt."""


@dataclass(frozen=True)
class GrooVAEConfig:
    """Every hyperparameter of a GrooVAE and its training, with where it came from.

    "Magenta" is ``CONFIG_MAP['groovae_2bar_humanize']`` in ``music_vae/configs.py``, merged
    over ``lstm_models.get_default_hparams()`` and ``base_model.get_default_hparams()``, as
    Magenta merges them; `SOURCES` says the same per field and is written to config.json.
    A trained model's ``config.json`` holds the values it was trained with.
    """

    task: str = "humanize"
    num_classes: int = NUM_CLASSES  # ROLAND_DRUM_PITCH_CLASSES
    seq_len: int = WINDOW_STEPS  # max_seq_len 16 * 2
    enc_rnn_size: int = 512
    dec_rnn_size: tuple[int, ...] = (256, 256)
    z_size: int = 256
    dropout_keep_prob: float = 0.3
    free_bits: float = 48.0
    max_beta: float = 0.2
    beta_rate: float = 0.999
    batch_size: int = 512
    learning_rate: float = 1e-3
    decay_rate: float = 0.9999
    min_learning_rate: float = 1e-5
    grad_clip: float = 1.0
    grad_norm_clip_to_zero: float = 10000.0
    forget_bias: float = 1.0
    init_stddev: float = 0.001
    value_loss: str = "all"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dec_rnn_size", tuple(int(s) for s in self.dec_rnn_size))
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if not self.dec_rnn_size or min(self.dec_rnn_size) < 1:
            raise ValueError(f"dec_rnn_size needs one or more positive sizes: {self.dec_rnn_size}")
        if not 0 < self.dropout_keep_prob <= 1:
            raise ValueError(f"dropout_keep_prob must lie in (0, 1]: {self.dropout_keep_prob}")
        if self.value_loss not in VALUE_LOSSES:
            raise ValueError(f"value_loss must be one of {VALUE_LOSSES}, got {self.value_loss!r}")

    @property
    def depth(self) -> int:
        """Values per step: hit, velocity and offset of each class."""
        return 3 * self.num_classes

    def beta(self, step: int) -> float:
        """KL weight after ``step`` updates: ``(1 - beta_rate**step) * max_beta`` (Magenta)."""
        return (1.0 - self.beta_rate**step) * self.max_beta

    def learning_rate_at(self, step: int) -> float:
        """Magenta's exponential decay: ``(lr - min_lr) * decay_rate**step + min_lr``."""
        return (
            self.learning_rate - self.min_learning_rate
        ) * self.decay_rate**step + self.min_learning_rate

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "dec_rnn_size": list(self.dec_rnn_size)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GrooVAEConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown GrooVAE settings: {', '.join(unknown)}")
        return cls(**values)


MAGENTA = "Magenta groovae_2bar_humanize"
VALUE_LOSSES = ("all", "hits")
"""Where the velocity and offset errors count (`GrooVAEConfig.value_loss`)."""

SOURCES: dict[str, str] = {
    "task": "ours: humanize = Magenta's humanize=True converter; vary = the same model as a "
    "plain autoencoder (humanize=False, as groovae_4bar) on 2-bar windows",
    "num_classes": "Magenta data.ROLAND_DRUM_PITCH_CLASSES (9 classes)",
    "seq_len": f"{MAGENTA}: max_seq_len 16 * 2",
    "enc_rnn_size": f"{MAGENTA}: enc_rnn_size [512] (per direction)",
    "dec_rnn_size": f"{MAGENTA}: dec_rnn_size [256, 256]",
    "z_size": f"{MAGENTA}: z_size 256",
    "dropout_keep_prob": f"{MAGENTA}: dropout_keep_prob 0.3 (input dropout on every LSTM layer)",
    "free_bits": f"{MAGENTA}: free_bits 48 (bits, on the KL summed over z)",
    "max_beta": f"{MAGENTA}: max_beta 0.2",
    "beta_rate": "ours: Magenta's groovae configs keep base_model's beta_rate 0.0 (beta = "
    "max_beta from step 1); the issue asks for annealing, so Magenta's formula with 0.999 "
    "per update (63% of max_beta after 1,000 updates)",
    "batch_size": f"{MAGENTA}: batch_size 512",
    "learning_rate": "Magenta base_model default 0.001 (Adam)",
    "decay_rate": "Magenta base_model default 0.9999 per update",
    "min_learning_rate": "Magenta base_model default 0.00001",
    "grad_clip": "Magenta base_model default 1.0 (global norm)",
    "grad_norm_clip_to_zero": "Magenta base_model default 10000 (skip the update above it)",
    "forget_bias": "TF LSTMBlockCell default forget_bias 1.0 (Magenta's cell)",
    "init_stddev": "Magenta: normal(0, 0.001) kernels of mu, sigma and z -> decoder state",
    "value_loss": "Magenta GrooveLstmDecoder: velocity and offset squared errors on every cell, "
    "the target 0 where there is no hit ('all'); 'hits' (ours) counts only cells with a hit",
}


@dataclass(frozen=True)
class Posterior:
    """The encoder's diagonal Gaussian over ``z``: ``mu`` and ``sigma``, each (batch, z)."""

    mu: torch.Tensor
    sigma: torch.Tensor

    def kl(self) -> torch.Tensor:
        """KL(q || N(0, I)) in nats, summed over ``z``: (batch,)."""
        return (0.5 * (self.sigma**2 + self.mu**2 - 1) - torch.log(self.sigma)).sum(-1)


class GrooVAE(nn.Module):
    """The network: see the module docstring. ``config.task`` only tells the trainer and
    `GrooveModel` what the encoder is fed."""

    def __init__(self, config: GrooVAEConfig) -> None:
        super().__init__()
        self.config = config
        depth, z = config.depth, config.z_size
        self.input_dropout = nn.Dropout(1.0 - config.dropout_keep_prob)
        self.encoder = nn.LSTM(depth, config.enc_rnn_size, batch_first=True, bidirectional=True)
        self.mu = nn.Linear(2 * config.enc_rnn_size, z)
        self.sigma = nn.Linear(2 * config.enc_rnn_size, z)
        self.z_to_state = nn.Linear(z, 2 * sum(config.dec_rnn_size))
        sizes = [depth + z, *config.dec_rnn_size]
        self.decoder = nn.ModuleList(
            nn.LSTM(sizes[i], sizes[i + 1], batch_first=True)
            for i in range(len(config.dec_rnn_size))
        )
        self.output = nn.Linear(config.dec_rnn_size[-1], depth)
        self._init_weights()

    def _init_weights(self) -> None:
        for layer in (self.mu, self.sigma, self.z_to_state):
            nn.init.normal_(layer.weight, std=self.config.init_stddev)
            nn.init.zeros_(layer.bias)
        for lstm in (self.encoder, *self.decoder):
            for name, p in lstm.named_parameters():
                if name.startswith("bias"):
                    # TF's cell: zero biases, forget_bias added to the forget gate; torch sums
                    # bias_ih and bias_hh, gates ordered (input, forget, cell, output)
                    with torch.no_grad():
                        p.zero_()
                        if name.startswith("bias_ih"):
                            p[lstm.hidden_size : 2 * lstm.hidden_size] = self.config.forget_bias

    def encode(self, x: torch.Tensor) -> Posterior:
        """(batch, steps, 27) -> the posterior over ``z``."""
        _, (h, _) = self.encoder(self.input_dropout(x))
        last = torch.cat([h[0], h[1]], dim=-1)  # last forward and last backward states
        return Posterior(self.mu(last), F.softplus(self.sigma(last)) + SIGMA_FLOOR)

    def initial_state(self, z: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each decoder layer's (h, c), each (1, batch, size), from ``z``."""
        flat = torch.tanh(self.z_to_state(z))
        state, start = [], 0
        for size in self.config.dec_rnn_size:
            c, h = flat[:, start : start + size], flat[:, start + size : start + 2 * size]
            state.append((h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()))
            start += 2 * size
        return state

    def _decoder_step(
        self, x: torch.Tensor, state: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        new_state = []
        for layer, layer_state in zip(self.decoder, state, strict=True):
            x, layer_state = layer(self.input_dropout(x), layer_state)
            new_state.append(layer_state)
        return self.output(x), new_state

    def decode_teacher_forced(self, z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Raw outputs (batch, steps, 27) when each step reads the target's previous step."""
        previous = F.pad(target[:, :-1], (0, 0, 1, 0))  # zeros before the first step
        zs = z.unsqueeze(1).expand(-1, target.shape[1], -1)
        raw, _ = self._decoder_step(torch.cat([previous, zs], dim=-1), self.initial_state(z))
        return raw

    def forward(
        self, inputs: torch.Tensor, target: torch.Tensor, *, sample: bool = True
    ) -> tuple[torch.Tensor, Posterior]:
        """Encode ``inputs``, decode towards ``target`` (teacher forcing).

        ``sample``: ``z`` drawn from the posterior (training, as Magenta), else its mean.
        Returns the raw outputs (batch, steps, 27) and the posterior.
        """
        q = self.encode(inputs)
        z = q.mu + q.sigma * torch.randn_like(q.sigma) if sample else q.mu
        return self.decode_teacher_forced(z, target), q

    def loss(
        self, inputs: torch.Tensor, target: torch.Tensor, *, beta: float, sample: bool = True
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Magenta's objective: mean reconstruction loss + beta * mean free-bits KL cost.

        Returns the loss (a scalar tensor) and its parts as floats, averaged over the batch:
        ``loss``, ``r_loss``, ``hits``, ``velocities``, ``offsets`` (the three summed over
        steps and classes), ``kl`` (nats) and ``kl_cost``.
        """
        raw, q = self(inputs, target, sample=sample)
        parts = reconstruction_terms(raw, target, hits_only=self.config.value_loss == "hits")
        r_loss = parts["hits"] + parts["velocities"] + parts["offsets"]
        kl = q.kl()
        kl_cost = torch.clamp(kl - self.config.free_bits * math.log(2.0), min=0.0)
        loss = r_loss.mean() + beta * kl_cost.mean()
        summary = {k: float(v.detach().mean()) for k, v in parts.items()}
        summary.update(
            loss=float(loss.detach()),
            r_loss=float(r_loss.detach().mean()),
            kl=float(kl.detach().mean()),
            kl_cost=float(kl_cost.detach().mean()),
        )
        return loss, summary

    @torch.no_grad()
    def generate(
        self,
        z: torch.Tensor,
        *,
        hits: torch.Tensor | None = None,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
        steps: int | None = None,
        hit_conditional: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decode step by step from ``z``, each step reading the previous step's result.

        Parameters
        ----------
        z : torch.Tensor
            (batch, z_size).
        hits : torch.Tensor, optional
            (batch, steps, classes): the hits are given (humanize) and the decoder reads
            them back instead of its own; velocities and offsets are the model's.
        temperature : float
            Without ``hits``: 0 keeps a hit where its probability is above 0.5; above 0 a
            hit is drawn from ``Bernoulli(sigmoid(logit / temperature))`` (Magenta's
            ``GrooveLstmDecoder._sample``).
        generator : torch.Generator, optional
            Random source of those draws.
        steps : int, optional
            Length; default the given hits' length, else ``config.seq_len``.
        hit_conditional : bool
            How a hit's velocity and offset are read (ours; default on). With
            ``value_loss="all"`` the loss fits the velocity and offset outputs to
            ``value * hit`` (targets are 0 where there is no hit), so a cell's output is
            ``P(hit) * E[value | hit]``: a model unsure of a
            hit plays it softer and nearer the grid. On, the outputs are divided by the
            hit probability (``sigmoid(logit)``), i.e. read as ``E[value | hit]``, then
            clipped to their ranges; off, they are taken as they are, as Magenta does. (With
            ``value_loss="hits"`` the outputs are ``E[value | hit]`` already and are read as
            they are either way.) The
            two agree where the model is sure of its hits.

        Returns
        -------
        hits, velocities, offsets : torch.Tensor
            Each (batch, steps, classes); velocities 0..1 and offsets in steps (-0.5..0.5),
            both zero where there is no hit (as in the training data).
        """
        c = self.config.num_classes
        steps = steps or (hits.shape[1] if hits is not None else self.config.seq_len)
        state = self.initial_state(z)
        previous = z.new_zeros(z.shape[0], 1, self.config.depth)
        outputs = []
        for t in range(steps):
            raw, state = self._decoder_step(torch.cat([previous, z.unsqueeze(1)], -1), state)
            logits, velocity, offset = raw[:, 0].split(c, dim=-1)
            if hits is not None:
                hit = hits[:, t]
            elif temperature <= 0:
                hit = (logits > 0).to(z.dtype)
            else:
                hit = torch.bernoulli(torch.sigmoid(logits / temperature), generator=generator)
            velocity, offset = torch.sigmoid(velocity), torch.tanh(offset)
            # Trained on hit cells only, the outputs already are the values given a hit.
            if hit_conditional and self.config.value_loss == "all":
                p = torch.sigmoid(logits).clamp_min(HIT_PROBABILITY_FLOOR)
                velocity, offset = (velocity / p).clamp(0, 1), (offset / p).clamp(-1, 1)
            step = torch.cat([hit, velocity * hit, offset * hit], -1)
            outputs.append(step)
            previous = step.unsqueeze(1)  # what teacher forcing showed: the values of hits
        out = torch.stack(outputs, dim=1)
        return out[..., :c], out[..., c : 2 * c], out[..., 2 * c :] / 2


def reconstruction_terms(
    raw: torch.Tensor, target: torch.Tensor, *, hits_only: bool = False
) -> dict[str, torch.Tensor]:
    """Per-window hit cross-entropy and velocity and offset squared errors, each (batch,).

    ``raw`` and ``target`` are (batch, steps, 27); offsets in the tensors' x 2 scale. With
    ``hits_only`` the velocity and offset errors count only where the target has a hit (the
    outputs then estimate a hit's value given that it is played).
    """
    c = raw.shape[-1] // 3
    logits, velocity, offset = raw.split(c, dim=-1)
    t_hits, t_velocity, t_offset = target.split(c, dim=-1)
    weight = t_hits if hits_only else torch.ones_like(t_hits)
    return {
        "hits": F.binary_cross_entropy_with_logits(logits, t_hits, reduction="none").sum((1, 2)),
        "velocities": (weight * (torch.sigmoid(velocity) - t_velocity) ** 2).sum((1, 2)),
        "offsets": (weight * (torch.tanh(offset) - t_offset) ** 2).sum((1, 2)),
    }


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class GrooveModel:
    """A trained GrooVAE for inference on numpy arrays of 2-bar windows.

    Arrays are float32 ``(windows, 32, 9)``: hits 0/1, velocities 0..1 (MIDI / 127),
    offsets in steps (-0.5..0.5, positive late), as `representation.Groove`.
    """

    def __init__(
        self, net: GrooVAE, *, device: torch.device, info: dict[str, Any] | None = None
    ) -> None:
        self.net = net.to(device).eval()
        self.config = net.config
        self.device = device
        self.info = info or {}

    @property
    def task(self) -> str:
        return self.config.task

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        *,
        task: str = "humanize",
        device: str | torch.device | None = None,
    ) -> GrooveModel:
        """Load ``model.pt`` and ``config.json`` from ``model_dir``.

        Parameters
        ----------
        model_dir : Path, optional
            A folder `training.groove.train_groovae` wrote; default the weights shipped in the
            package for ``task`` (``groove/weights/<task>``).
        task : str
            ``"humanize"`` or ``"vary"``; must match the folder's model.
        device : str or torch.device, optional
            Default CUDA when available, else CPU.

        Raises
        ------
        GrooveModelError
            A file is missing or corrupt, or the folder holds the other task's model.
        """
        if task not in TASKS:
            raise GrooveModelError(f"GrooVAE task must be one of {', '.join(TASKS)}: {task!r}")
        folder = model_folder(task, model_dir)
        for name in (CONFIG_FILE, MODEL_FILE):
            if not (folder / name).is_file():
                raise GrooveModelError(f"GrooVAE {task} weights: {folder / name} is missing")
        try:
            info = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
            if info.get("format") != FORMAT or info.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"not a {FORMAT} version {FORMAT_VERSION} file")
            config = GrooVAEConfig.from_dict(info["config"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GrooveModelError(f"{folder / CONFIG_FILE}: unreadable ({exc})") from None
        if config.task != task:
            raise GrooveModelError(f"{folder} holds a GrooVAE {config.task} model, not {task}")
        target = torch.device(device) if device is not None else default_device()
        net = GrooVAE(config)
        try:
            state = torch.load(folder / MODEL_FILE, map_location=target, weights_only=True)
            net.load_state_dict(state)  # copies (and upcasts float16) into float32 parameters
        except Exception as exc:  # torch raises many types for a bad pickle or a bad shape
            raise GrooveModelError(
                f"{folder / MODEL_FILE}: not a matching GrooVAE state ({type(exc).__name__})"
            ) from None
        return cls(net, device=target, info=info)

    def humanize(self, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Velocities and offsets for quantized hits; the hits themselves are kept.

        Deterministic: ``z`` is the posterior mean, and the decoder reads the given hits
        back at each step (only velocities and offsets are the model's, read given the hit:
        see ``hit_conditional`` in `GrooVAE.generate`).

        Parameters
        ----------
        hits : numpy.ndarray
            (windows, 32, 9) 0/1.

        Returns
        -------
        velocities, offsets : numpy.ndarray
            Each (windows, 32, 9) float32, zero where there is no hit.
        """
        if self.task != "humanize":
            raise DrumgenxError(f"this GrooVAE model was trained for {self.task}, not humanize")
        h = self._tensor(hits, "hits", binary=True)
        x = torch.cat([h, torch.zeros_like(h), torch.zeros_like(h)], dim=-1)
        with torch.no_grad():
            q = self.net.encode(x)
            _, velocities, offsets = self.net.generate(q.mu, hits=h)
        return _numpy(velocities), _numpy(offsets)

    def vary(
        self,
        hits: np.ndarray,
        velocities: np.ndarray,
        offsets: np.ndarray,
        *,
        temperature: float,
        seed: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A variation of each window that keeps its feel.

        Encode the window; draw ``z = mu + temperature * sigma * noise`` (noise from a
        ``torch.Generator`` seeded with ``seed``); decode, drawing each hit from
        ``Bernoulli(sigmoid(logit / temperature))``. At temperature 0 both are exact: ``z``
        is the posterior mean and a hit is kept where its probability is above 0.5 (the
        reconstruction). At 1, ``z`` is a draw from the posterior and the hits from the
        decoder's own probabilities, as Magenta's sampling. A hit's velocity and offset are
        read given the hit (``hit_conditional`` in `GrooVAE.generate`).

        Returns
        -------
        hits, velocities, offsets : numpy.ndarray
            Each (windows, 32, 9) float32, velocities and offsets zero where there is no hit.
        """
        if self.task != "vary":
            raise DrumgenxError(f"this GrooVAE model was trained for {self.task}, not vary")
        if not (math.isfinite(temperature) and temperature >= 0):
            raise DrumgenxError(f"temperature must be 0 or more, got {temperature}")
        h = self._tensor(hits, "hits", binary=True)
        v = self._tensor(velocities, "velocities") * h
        o = self._tensor(offsets, "offsets") * h
        generator = torch.Generator(device=self.device).manual_seed(int(seed))
        with torch.no_grad():
            q = self.net.encode(torch.cat([h, v, 2 * o], dim=-1))
            noise = torch.randn(q.mu.shape, generator=generator, device=self.device)
            z = q.mu + temperature * q.sigma * noise
            out = self.net.generate(z, temperature=temperature, generator=generator)
        return tuple(_numpy(t) for t in out)  # type: ignore[return-value]

    def _tensor(self, array: np.ndarray, name: str, *, binary: bool = False) -> torch.Tensor:
        a = np.asarray(array, dtype=np.float32)
        expected = (self.config.seq_len, self.config.num_classes)
        if a.ndim != 3 or a.shape[1:] != expected:
            raise ValueError(f"{name} must have shape (windows, {expected[0]}, {expected[1]})")
        if binary and not np.all((a == 0) | (a == 1)):
            raise ValueError(f"{name} must be 0 or 1")
        return torch.from_numpy(a).to(self.device)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()
