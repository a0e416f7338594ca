"""The tokenizer network: a ConvNeXt-style 1-D encoder over one-hot bases, VQ/HRQ codebooks, and a
mirrored decoder that reconstructs the bases.

Input is base ids (see `vqdna.alphabet`), shape (batch, length_bp), with BASE_PAD_ID beyond each
sequence's end. Features at padded positions are zeroed before every convolution, so a sequence's
codes are the same alone or in a padded batch.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import PretrainedConfig, PreTrainedModel

from .alphabet import BASE_PAD_ID, N_ID, NUM_BASE_IDS
from .config import VQVAEConfig, check_choice
from .quantizers import HierarchicalResidualQuantizer
from .storage import CheckpointError

_SETTINGS = tuple(f.name for f in dataclasses.fields(VQVAEConfig))


class VQVAENetworkConfig(PretrainedConfig):
    """The network's settings as transformers keeps a model's config: the fields of
    `vqdna.config.VQVAEConfig` (which checks them, and where they are documented) as attributes."""

    model_type = "vqdna_vqvae"

    def __init__(self, **kwargs):
        settings = {name: kwargs.pop(name) for name in _SETTINGS if name in kwargs}
        super().__init__(**kwargs)
        for name, value in dataclasses.asdict(VQVAEConfig(**settings)).items():
            setattr(self, name, value)

    @property
    def settings(self) -> VQVAEConfig:
        """The settings as vqdna's config dataclass (with its derived values: num_levels, receptive fields)."""
        return VQVAEConfig(**{name: getattr(self, name) for name in _SETTINGS})


@dataclass
class EncodedBatch:
    indices: Tensor  # (batch, tokens, levels)
    quantized: Tensor  # (batch, tokens, code_dim)
    token_mask: Tensor  # (batch, tokens) bool, True at real tokens
    loss: Tensor  # quantizer loss


@dataclass
class VQVAEOutput:
    loss: Tensor
    reconstruction_loss: Tensor
    quantizer_loss: Tensor
    logits: Tensor  # (batch, length_bp, 4)
    indices: Tensor  # (batch, tokens, levels)
    token_mask: Tensor


def _one_hot_table() -> Tensor:
    table = torch.zeros(NUM_BASE_IDS, 4)
    table[:4] = torch.eye(4)
    table[N_ID] = 0.25  # ambiguous: no information, but a real position
    return table  # PAD row stays zero, like the convolutions' own padding


def conv_channels_last(conv: nn.Conv1d, x: Tensor) -> Tensor:
    """`conv` applied to x (batch, length, channels), giving (batch, length', out_channels) with no
    copy either way: the input is viewed as a channels-last image of height 1, which oneDNN (and
    cuDNN) convolve in place. Transposing to (batch, channels, length) and back cost two copies
    per convolution, a fifth of the encoder's time on a CPU, and a depth-wise conv over that layout
    was 4× slower (benchmarks/README.md, "Speed"). Same weights, same arithmetic up to summation order."""
    y = F.conv2d(
        x.transpose(1, 2).unsqueeze(2),
        conv.weight.unsqueeze(2),
        conv.bias,
        stride=(1, conv.stride[0]),
        padding=(0, conv.padding[0]),
        groups=conv.groups,
    )
    return y.squeeze(2).transpose(1, 2)


def _fusable() -> bool:
    """Whether oneDNN's fused linear + pointwise kernels (inference only) can be called."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


class ConvNeXtBlock1d(nn.Module):
    """Depth-wise conv → LayerNorm → Linear ×mlp_ratio → GELU → Linear, scaled, residual."""

    def __init__(self, width: int, kernel_size: int, mlp_ratio: int, layer_scale_init: float):
        super().__init__()
        self.dwconv = nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2, groups=width)
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, mlp_ratio * width)
        self.fc2 = nn.Linear(mlp_ratio * width, width)
        self.gamma = nn.Parameter(torch.full((width,), layer_scale_init))

    def forward(self, x: Tensor, mask: Tensor | None, *, fused: bool = False) -> Tensor:
        """x (batch, tokens, width); `mask` (batch, tokens, 1), or None when every token is real.
        `fused` (inference on a CPU, no gradients): fc1 and GELU in one oneDNN kernel, which
        skips writing and re-reading the 4×-wide activation and gives bitwise the same values.
        (Fusing fc2 with the residual add as well moved codes: left out.)"""
        y = self.norm(conv_channels_last(self.dwconv, x if mask is None else x * mask))
        if fused:
            h = torch.ops.mkldnn._linear_pointwise(y, self.fc1.weight, self.fc1.bias, "gelu", [], "none")
        else:
            h = F.gelu(self.fc1(y))
        return x + self.gamma * self.fc2(h)


class Encoder(nn.Module):
    def __init__(self, c: VQVAEConfig):
        super().__init__()
        self.stem = nn.Conv1d(
            4, c.stem_channels, c.stem_kernel, stride=c.stride, padding=(c.stem_kernel - c.stride) // 2
        )
        self.stem_norm = nn.LayerNorm(c.stem_channels)
        self.proj = nn.Linear(c.stem_channels, c.width) if c.stem_channels != c.width else nn.Identity()
        self.blocks = nn.ModuleList(
            ConvNeXtBlock1d(c.width, c.kernel_size, c.mlp_ratio, c.layer_scale_init) for _ in range(c.depth)
        )

    def forward(
        self, one_hot: Tensor, token_mask: Tensor, upto: int | None = None, *, fused: bool = False
    ) -> list[Tensor]:
        """Hidden states after each block (1..upto), each (batch, tokens, width), in one_hot's
        dtype. `fused`: the blocks' inference kernel (see `ConvNeXtBlock1d.forward`)."""
        # a batch with no padding (chunks of one long sequence, equal reads) skips the masking
        m = None if bool(token_mask.all()) else token_mask.unsqueeze(-1).to(one_hot.dtype)
        stem = conv_channels_last(self.stem, one_hot)
        x = self.proj(F.gelu(self.stem_norm(stem)))
        hidden = []
        for block in self.blocks[:upto]:
            x = block(x, m, fused=fused)
            hidden.append(x)
        return hidden


class Decoder(nn.Module):
    def __init__(self, c: VQVAEConfig):
        super().__init__()
        self.proj_in = nn.Linear(c.code_dim, c.width)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock1d(c.width, c.kernel_size, c.mlp_ratio, c.layer_scale_init) for _ in range(c.depth)
        )
        self.norm = nn.LayerNorm(c.width)
        self.upsample = nn.ConvTranspose1d(
            c.width, c.stem_channels, c.stem_kernel, stride=c.stride, padding=(c.stem_kernel - c.stride) // 2
        )
        self.out_norm = nn.LayerNorm(c.stem_channels)
        self.head = nn.Linear(c.stem_channels, 4)

    def forward(self, quantized: Tensor, token_mask: Tensor) -> Tensor:
        """(batch, tokens, code_dim) → base logits (batch, tokens·stride, 4)."""
        m = token_mask.unsqueeze(-1).to(quantized.dtype)
        block_mask = None if bool(token_mask.all()) else m  # as in the encoder
        x = self.proj_in(quantized)
        for block in self.blocks:
            x = block(x, block_mask)
        x = self.upsample((self.norm(x) * m).transpose(1, 2)).transpose(1, 2)
        return self.head(F.gelu(self.out_norm(x)))


PRECISIONS = ("fp32", "bf16")


class VQVAE(PreTrainedModel):
    """VQ-VAE (one level) or HRQ (several levels) genome tokenizer network. A transformers
    `PreTrainedModel` (save_pretrained / from_pretrained, the Trainer's checkpoints) whose config is
    a `VQVAENetworkConfig`; built from vqdna's `VQVAEConfig` as well."""

    config_class = VQVAENetworkConfig
    base_model_prefix = "vqvae"
    main_input_name = "bp_ids"

    def __init__(self, config: VQVAEConfig | VQVAENetworkConfig):
        if isinstance(config, VQVAEConfig):
            config = VQVAENetworkConfig(**dataclasses.asdict(config))
        super().__init__(config)
        config = config.settings
        self.encoder = Encoder(config)
        self.pre_quant = nn.ModuleList(nn.Linear(config.width, config.code_dim) for _ in config.codebook_sizes)
        self.quantizer = HierarchicalResidualQuantizer(
            config.code_dim,
            config.codebook_sizes,
            decay=config.decay,
            commitment_weight=config.commitment_weight,
            ema_update=config.ema_update,
            kmeans_init=config.kmeans_init,
            threshold_ema_dead_code=config.threshold_ema_dead_code,
        )
        self.decoder = Decoder(config)
        self.post_init()

    @classmethod
    def from_pretrained(cls, *args, **kwargs) -> "VQVAE":
        """transformers' loading, refusing a checkpoint that lacks a weight: `_init_weights` keeps
        construction-time initialisation, which a model built on the meta device never ran."""
        wants_info = kwargs.pop("output_loading_info", False)
        model, info = super().from_pretrained(*args, output_loading_info=True, **kwargs)
        if info["missing_keys"]:
            raise CheckpointError(
                f"{args[0] if args else ''}: weights missing: {', '.join(sorted(info['missing_keys'])[:5])}"
            )
        return (model, info) if wants_info else model

    def _init_weights(self, module: nn.Module) -> None:
        """Nothing: every layer is initialised where it is built (PyTorch's defaults, the codebooks
        by k-means on the first batch), as before the network was a PreTrainedModel, so a seed
        gives the same network."""

    def one_hot(self, bp_ids: Tensor) -> Tensor:
        """(batch, length_bp, 4) rows of the one-hot table. The table is built here, not kept as a
        buffer: transformers builds a model on the meta device when loading it, which leaves
        non-persistent buffers uninitialised."""
        return _one_hot_table().to(device=bp_ids.device, dtype=self.encoder.stem.weight.dtype)[bp_ids]

    def _pad_to_stride(self, bp_ids: Tensor) -> Tensor:
        extra = (-bp_ids.shape[1]) % self.config.stride
        return F.pad(bp_ids, (0, extra), value=BASE_PAD_ID) if extra else bp_ids

    def token_mask(self, bp_ids: Tensor) -> Tensor:
        """A token is real if any bp of its span is (the last one of a sequence may be partial)."""
        bp_ids = self._pad_to_stride(bp_ids)
        return (bp_ids != BASE_PAD_ID).view(bp_ids.shape[0], -1, self.config.stride).any(-1)

    def encode(self, bp_ids: Tensor) -> EncodedBatch:
        bp_ids = self._pad_to_stride(bp_ids)
        token_mask = self.token_mask(bp_ids)
        one_hot = self.one_hot(bp_ids)
        hidden = self.encoder(one_hot, token_mask, upto=self.config.tap_blocks[-1])
        features = [proj(hidden[b - 1]) for proj, b in zip(self.pre_quant, self.config.tap_blocks)]
        out = self.quantizer(features, token_mask)
        return EncodedBatch(out.indices, out.quantized, token_mask, out.loss)

    @torch.no_grad()
    def encode_indices(self, bp_ids: Tensor, *, precision: str = "fp32") -> tuple[Tensor, Tensor]:
        """Codes (batch, tokens, levels) and the token mask: `encode` for tokenizing, faster.
        On a CPU the blocks run oneDNN's fused kernels; `precision="bf16"` runs the encoder in
        bfloat16 (a bf16 copy of its weights on a CPU, autocast on a GPU), distances in float32.
        float32 codes are `encode`'s (pinned by tests on a real genome); bf16 changes a few in
        100,000 (benchmarks/README.md, "Speed")."""
        check_choice("precision", precision, PRECISIONS)
        bp_ids = self._pad_to_stride(bp_ids)
        token_mask = self.token_mask(bp_ids)
        cpu = bp_ids.device.type == "cpu"
        net = self._bf16_copy() if precision == "bf16" and cpu else self
        one_hot = self.one_hot(bp_ids).to(net.encoder.stem.weight.dtype)
        upto = self.config.tap_blocks[-1]
        with torch.autocast(bp_ids.device.type, torch.bfloat16, enabled=precision == "bf16" and not cpu):
            hidden = net.encoder(one_hot, token_mask, upto, fused=cpu and _fusable())
            features = [proj(hidden[b - 1]) for proj, b in zip(net.pre_quant, self.config.tap_blocks)]
        return self.quantizer.codes(features), token_mask

    def _bf16_copy(self) -> "VQVAE":
        """The encoder and projections in bfloat16 (not the decoder or codebooks), made again
        whenever a weight has changed since (training steps bump the tensors' versions)."""
        params = [*self.encoder.parameters(), *self.pre_quant.parameters()]
        key = tuple((id(t), t._version) for t in params)
        cached = getattr(self, "_bf16_cache", None)
        if cached is None or cached[0] != key:
            half = nn.Module()
            half.encoder = copy.deepcopy(self.encoder).to(torch.bfloat16)
            half.pre_quant = copy.deepcopy(self.pre_quant).to(torch.bfloat16)
            object.__setattr__(self, "_bf16_cache", (key, half))  # not a submodule: never saved
        return self._bf16_cache[1]

    def decode(self, quantized: Tensor, token_mask: Tensor) -> Tensor:
        return self.decoder(quantized, token_mask)

    def decode_indices(self, indices: Tensor, token_mask: Tensor) -> Tensor:
        return self.decode(self.quantizer.get_output_from_indices(indices), token_mask)

    def forward(self, bp_ids: Tensor) -> VQVAEOutput:
        length = bp_ids.shape[1]
        enc = self.encode(bp_ids)
        logits = self.decode(enc.quantized, enc.token_mask)[:, :length]
        target = bp_ids.long()
        known = target < 4  # reconstruction is scored on A/C/G/T only; N and padding carry nothing
        rec = F.cross_entropy(logits[known].float(), target[known]) if known.any() else logits.sum() * 0
        return VQVAEOutput(rec + enc.loss, rec, enc.loss, logits, enc.indices, enc.token_mask)
