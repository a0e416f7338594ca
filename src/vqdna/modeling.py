"""The genomic language model: a BERT-style encoder over any tokenizer's output.

Inputs are token ids, (batch, tokens) or (batch, tokens, levels) for HRQ. For VQ/HRQ the default
input is the frozen tokenizer's quantized embedding of each code (the codebooks are copied into
the model as frozen buffers, averaged over levels as the tokenizer's decoder sees them) projected
to the hidden size; `input_mode="ids"` learns an embedding per code instead, which is also what
k-mer and BPE use. Positions are ALiBi biases, so sequences longer than those seen in training
work; attention runs through `scaled_dot_product_attention`. Module names follow BERT
(query/key/value/dense) so LoRA targets carry over from DNABERT-2's recipes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.utils import ModelOutput

from .alphabet import CLS_TOKEN_ID, NUM_SPECIAL, PAD_TOKEN_ID
from .config import INPUT_MODES, POOLINGS, check_choice, check_value
from .errors import UserError


class VQDNAConfig(PretrainedConfig):
    model_type = "vqdna"

    def __init__(
        self,
        level_vocab_sizes: list[int] | None = None,
        input_mode: str = "ids",
        code_dim: int = 0,
        hidden_size: int = 256,
        num_hidden_layers: int = 4,
        num_attention_heads: int = 4,
        intermediate_size: int = 1024,
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.0,
        layer_norm_eps: float = 1e-12,
        initializer_range: float = 0.02,
        tokenizer_kind: str = "",
        bp_per_token: float = 1.0,
        alibi_direction: float = 0.0,
        pooling: str = "mean",
        tokenizer_fingerprint: str = "",
        base_loss_weight: float = 0.0,
        **kwargs,
    ):
        kwargs.setdefault("pad_token_id", PAD_TOKEN_ID)
        super().__init__(**kwargs)
        # every value is checked by name: a config.json edited by hand (a size written as text, a
        # negative layer count) is an error naming the key, not a failure deep inside the network
        level_vocab_sizes = check_value(
            "level_vocab_sizes", list(level_vocab_sizes or [NUM_SPECIAL]), "list[int]", ">=1"
        )
        code_dim = check_value("code_dim", code_dim, "int", ">=0")
        hidden_size, num_hidden_layers, num_attention_heads, intermediate_size = (
            check_value(name, value, "int", ">=1")
            for name, value in (
                ("hidden_size", hidden_size),
                ("num_hidden_layers", num_hidden_layers),
                ("num_attention_heads", num_attention_heads),
                ("intermediate_size", intermediate_size),
            )
        )
        hidden_dropout_prob = check_value("hidden_dropout_prob", hidden_dropout_prob, "float", "[0,1)")
        attention_probs_dropout_prob = check_value(
            "attention_probs_dropout_prob", attention_probs_dropout_prob, "float", "[0,1)"
        )
        layer_norm_eps = check_value("layer_norm_eps", layer_norm_eps, "float", ">0")
        initializer_range = check_value("initializer_range", initializer_range, "float", ">0")
        bp_per_token = check_value("bp_per_token", bp_per_token, "float", ">0")
        alibi_direction = check_value("alibi_direction", alibi_direction, "float", ">=0")
        base_loss_weight = check_value("base_loss_weight", base_loss_weight, "float", ">=0")
        for name, value in (
            ("input_mode", input_mode),
            ("tokenizer_kind", tokenizer_kind),
            ("pooling", pooling),
            ("tokenizer_fingerprint", tokenizer_fingerprint),
        ):
            check_value(name, value, "str")
        self.level_vocab_sizes = level_vocab_sizes
        check_choice("input_mode", input_mode, INPUT_MODES)
        if input_mode == "quantized" and code_dim <= 0:
            raise UserError("input_mode='quantized' needs the tokenizer's code_dim")
        if hidden_size % num_attention_heads:
            raise UserError(f"hidden_size {hidden_size} is not a multiple of num_attention_heads {num_attention_heads}")
        self.input_mode, self.code_dim = input_mode, code_dim
        self.hidden_size, self.num_hidden_layers, self.num_attention_heads = (
            hidden_size,
            num_hidden_layers,
            num_attention_heads,
        )
        self.intermediate_size = intermediate_size
        self.hidden_dropout_prob, self.attention_probs_dropout_prob = hidden_dropout_prob, attention_probs_dropout_prob
        self.layer_norm_eps, self.initializer_range = layer_norm_eps, initializer_range
        self.tokenizer_kind, self.bp_per_token = tokenizer_kind, bp_per_token
        self.alibi_direction = alibi_direction
        check_choice("pooling", pooling, POOLINGS)
        self.pooling = pooling  # the sequence classifier's (see VQDNAForSequenceClassification)
        # GenomeTokenizer.fingerprint() of the tokenizer the encoder was trained on ("": not
        # recorded, a folder from before fingerprints); loading refuses any other tokenizer
        self.tokenizer_fingerprint = tokenizer_fingerprint
        # > 0: masked code modeling also predicts the base at the centre of each masked token from
        # the same hidden state (a second head), its loss added with this weight (a training
        # setting kept here as transformers keeps loss coefficients in a model's config)
        self.base_loss_weight = base_loss_weight
        self.auto_map = dict(AUTO_MAP)  # every head's class, whichever one saved the folder

    @property
    def num_levels(self) -> int:
        return len(self.level_vocab_sizes)


@dataclass
class VQDNAModelOutput(ModelOutput):
    last_hidden_state: Tensor | None = None
    # with output_hidden_states: the embeddings, then each layer's output; the last one passes the
    # final LayerNorm, so it equals last_hidden_state
    hidden_states: tuple[Tensor, ...] | None = None


@dataclass
class MaskedCodeModelingOutput(ModelOutput):
    loss: Tensor | None = None
    # (batch, tokens, vocab) as transformers' masked LMs give it; for HRQ a tuple, one per level
    # (coarse, ..., fine), since the levels' vocabularies differ in size (see `level_logits`)
    logits: Tensor | tuple[Tensor, ...] | None = None
    level_losses: tuple[Tensor, ...] | None = None
    hidden_states: tuple[Tensor, ...] | None = None
    # with config.base_loss_weight > 0: (batch, tokens, 4) logits of each token's centre base (A C G
    # T), and their loss on the masked tokens (unweighted; `loss` includes it times the weight)
    base_logits: Tensor | None = None
    base_loss: Tensor | None = None


def level_logits(output: MaskedCodeModelingOutput) -> tuple[Tensor, ...]:
    """The masked-code logits of each level, as a tuple whatever the number of levels."""
    return output.logits if isinstance(output.logits, tuple) else (output.logits,)


def _check_output_options(output_attentions: bool | None) -> None:
    if output_attentions:
        raise ValueError(
            "output_attentions is not available: attention runs in fused kernels that do not return weights"
        )


def alibi_slopes(num_heads: int) -> Tensor:
    """The ALiBi paper's geometric slopes (with its rule for head counts that are not powers of 2)."""

    def power_of_2(n: int) -> list[float]:
        start = 2 ** (-8 / n)
        return [start ** (i + 1) for i in range(n)]

    if math.log2(num_heads).is_integer():
        return torch.tensor(power_of_2(num_heads))
    closest = 2 ** math.floor(math.log2(num_heads))
    return torch.tensor(power_of_2(closest) + power_of_2(2 * closest)[0::2][: num_heads - closest])


def attention_bias(attention_mask: Tensor, slopes: Tensor, dtype: torch.dtype, direction: float = 0.0) -> Tensor:
    """(batch, heads, tokens, tokens) additive bias: −slope·|i−j|, and −inf-like for padded keys.

    ALiBi's bias is symmetric, so an encoder built on it alone cannot tell a left neighbour from a
    right one (its output is equivariant to reversing the sequence). `direction` > 0 adds that
    much to keys left of the query in even heads and to keys right of it in odd heads: each pair of
    heads then leans opposite ways, and the distance term still extrapolates to any length."""
    n = attention_mask.shape[1]
    pos = torch.arange(n, device=attention_mask.device)
    offset = (pos[None, :] - pos[:, None]).to(dtype)  # key − query
    bias = -slopes.to(device=attention_mask.device, dtype=dtype)[None, :, None, None] * offset.abs()
    if direction:
        even = (torch.arange(slopes.numel(), device=attention_mask.device) % 2 == 0)[:, None, None]
        bias = bias + direction * torch.where(even, offset < 0, offset > 0).to(dtype)[None]
    keys_masked = attention_mask[:, None, None, :] == 0
    return bias.masked_fill(keys_masked, torch.finfo(dtype).min)


class SelfAttention(nn.Module):
    def __init__(self, c: VQDNAConfig):
        super().__init__()
        self.heads = c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = c.attention_probs_dropout_prob

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        b, n, d = x.shape

        def split(t: Tensor) -> Tensor:
            return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            split(self.query(x)),
            split(self.key(x)),
            split(self.value(x)),
            attn_mask=bias.to(x.dtype),
            dropout_p=self.dropout if self.training else 0.0,
        )
        return out.transpose(1, 2).reshape(b, n, d)


class _Dense(nn.Module):
    """A Linear called `dense`, as in BERT, so that LoRA's `dense` target finds it."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.dense(x)


class Attention(nn.Module):
    def __init__(self, c: VQDNAConfig):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = _Dense(c.hidden_size, c.hidden_size)


class EncoderLayer(nn.Module):
    """Pre-LayerNorm transformer block (steadier than BERT's post-LN for short CPU runs)."""

    def __init__(self, c: VQDNAConfig):
        super().__init__()
        self.attention_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.attention = Attention(c)
        self.mlp_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.intermediate = _Dense(c.hidden_size, c.intermediate_size)
        self.output = _Dense(c.intermediate_size, c.hidden_size)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        x = x + self.dropout(self.attention.output(self.attention.self(self.attention_norm(x), bias)))
        return x + self.dropout(self.output(F.gelu(self.intermediate(self.mlp_norm(x)))))


class Embeddings(nn.Module):
    def __init__(self, c: VQDNAConfig):
        super().__init__()
        self.config = c
        if c.input_mode == "quantized":
            # Frozen copies of the tokenizer's codebooks (saved with the model, never trained).
            for n, size in enumerate(c.level_vocab_sizes):
                self.register_buffer(f"codebook_{n}", torch.zeros(size - NUM_SPECIAL, c.code_dim))
            self.code_projection = nn.Linear(c.code_dim, c.hidden_size)
            self.special_embeddings = nn.Embedding(NUM_SPECIAL, c.hidden_size)
        else:
            self.word_embeddings = nn.ModuleList(nn.Embedding(size, c.hidden_size) for size in c.level_vocab_sizes)
        self.norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids: Tensor) -> Tensor:
        ids = input_ids if input_ids.dim() == 3 else input_ids.unsqueeze(-1)
        if self.config.input_mode == "quantized":
            special = ids[..., 0] < NUM_SPECIAL  # a masked or padded position is masked at every level
            codes = (ids - NUM_SPECIAL).clamp_min(0)
            quantized = torch.stack(
                [F.embedding(codes[..., n], getattr(self, f"codebook_{n}")) for n in range(ids.shape[-1])]
            ).mean(0)
            x = self.code_projection(quantized.to(self.code_projection.weight.dtype))
            x = torch.where(special[..., None], self.special_embeddings(ids[..., 0].clamp_max(NUM_SPECIAL - 1)), x)
        else:
            x = sum(emb(ids[..., n]) for n, emb in enumerate(self.word_embeddings))
        return self.dropout(self.norm(x))


class VQDNAPreTrainedModel(PreTrainedModel):
    config_class = VQDNAConfig
    base_model_prefix = "vqdna"
    _supports_sdpa = True
    # Our losses are means over the micro-batch and ignore `num_items_in_batch`; without this the
    # Trainer (seeing `**kwargs` in forward) would assume they are not and skip dividing by the
    # gradient-accumulation steps, logging (and clipping) N× the loss.
    accepts_loss_kwargs = False

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=std)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class VQDNAModel(VQDNAPreTrainedModel):
    """The encoder: embeddings, ALiBi transformer layers, final LayerNorm."""

    def __init__(self, config: VQDNAConfig):
        super().__init__(config)
        self.embeddings = Embeddings(config)
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.num_hidden_layers))
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def set_codebooks(self, codebooks: list[Tensor]) -> None:
        for n, cb in enumerate(codebooks):
            getattr(self.embeddings, f"codebook_{n}").copy_(cb)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **_,  # e.g. token_type_ids from a pipeline: no meaning here
    ) -> VQDNAModelOutput | tuple:
        _check_output_options(output_attentions)
        if attention_mask is None:
            attention_mask = torch.ones(input_ids.shape[:2], dtype=torch.long, device=input_ids.device)
        x = self.embeddings(input_ids)
        # Slopes are rebuilt each call, not kept as a buffer: transformers builds models on the
        # meta device when loading, which leaves non-persistent buffers uninitialised.
        bias = attention_bias(
            attention_mask, alibi_slopes(self.config.num_attention_heads), torch.float32, self.config.alibi_direction
        )
        hidden = [x] if output_hidden_states else None
        for n, layer in enumerate(self.layers):
            x = layer(x, bias)
            if hidden is not None:
                hidden.append(self.norm(x) if n == len(self.layers) - 1 else x)
        out = VQDNAModelOutput(last_hidden_state=self.norm(x), hidden_states=tuple(hidden) if hidden else None)
        return out if return_dict is not False else out.to_tuple()


class LevelHead(nn.Module):
    def __init__(self, c: VQDNAConfig, vocab_size: int):
        super().__init__()
        self.transform = nn.Linear(c.hidden_size, c.hidden_size)
        self.norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.decoder = nn.Linear(c.hidden_size, vocab_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.norm(F.gelu(self.transform(x))))


def _masked_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy over the positions whose label is not −100; a batch with none gives a zero
    that still depends on every weight (so distributed training sees every gradient)."""
    if (labels != -100).any():
        return F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100)
    return logits.sum() * 0.0


class VQDNAForMaskedCodeModeling(VQDNAPreTrainedModel):
    """Encoder plus one prediction head per tokenizer level; the loss is summed over levels. With
    `config.base_loss_weight` > 0 a further head predicts the base under each masked token
    (`base_labels`, from `vqdna.masking.MaskedCodeCollator(base_labels=True)`), an auxiliary target
    that asks the encoder for the sequence itself, not only for the tokenizer's code ids."""

    def __init__(self, config: VQDNAConfig):
        super().__init__(config)
        self.vqdna = VQDNAModel(config)
        self.heads = nn.ModuleList(LevelHead(config, v) for v in config.level_vocab_sizes)
        self.base_head = LevelHead(config, 4) if config.base_loss_weight > 0 else None
        self.post_init()

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        base_labels: Tensor | None = None,
        **_,
    ) -> MaskedCodeModelingOutput | tuple:
        encoded = self.vqdna(input_ids, attention_mask, output_hidden_states, output_attentions, return_dict=True)
        hidden = encoded.last_hidden_state
        logits = tuple(head(hidden) for head in self.heads)
        base_logits = self.base_head(hidden) if self.base_head is not None else None
        loss = level_losses = base_loss = None
        if labels is not None:
            lab = labels if labels.dim() == 3 else labels.unsqueeze(-1)
            level_losses = tuple(_masked_loss(lg, lab[..., n]) for n, lg in enumerate(logits))
            loss = torch.stack(level_losses).sum()
        if base_logits is not None and base_labels is not None:
            base_loss = _masked_loss(base_logits, base_labels)
            loss = base_loss * self.config.base_loss_weight + (loss if loss is not None else 0.0)
        out = MaskedCodeModelingOutput(
            loss=loss,
            logits=logits if len(logits) > 1 else logits[0],
            level_losses=level_losses,
            hidden_states=encoded.hidden_states,
            base_logits=base_logits,
            base_loss=base_loss,
        )
        return out if return_dict is not False else out.to_tuple()


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Mean over the real (non-padding) tokens of each sequence."""
    m = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1.0)


def max_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Maximum over the real (non-padding) tokens of each sequence, feature by feature."""
    return hidden.masked_fill(attention_mask.unsqueeze(-1) == 0, torch.finfo(hidden.dtype).min).amax(1)


def cls_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """The first token's hidden state: the [CLS] token `VQDNAForSequenceClassification.encode`
    puts in front of every sequence when `config.pooling` is "cls"."""
    return hidden[:, 0]


POOLING = {"mean": mean_pool, "max": max_pool, "cls": cls_pool}
assert tuple(POOLING) == POOLINGS


class ClassificationHead(nn.Module):
    """A two-layer MLP on pooled tokens. Its layers are not called `dense`, so LoRA targets that
    name only the encoder's layers and the head is trained in full."""

    def __init__(self, c: VQDNAConfig):
        super().__init__()
        self.hidden = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.out = nn.Linear(c.hidden_size, c.num_labels)

    def forward(self, pooled: Tensor) -> Tensor:
        return self.out(self.dropout(F.gelu(self.hidden(self.dropout(pooled)))))


class VQDNAForSequenceClassification(VQDNAPreTrainedModel):
    """Encoder plus an MLP head on mask-aware pooled tokens (`config.pooling`: "mean", the
    default; "max": a motif found anywhere in the sequence is not averaged away; or "cls": BERT's
    and DNABERT-2's head, which reads a [CLS] token put in front of the sequence).
    `config.problem_type` is "single_label_classification" (cross-entropy over `num_labels`
    classes) or "regression" (mean squared error on one float)."""

    def __init__(self, config: VQDNAConfig):
        super().__init__(config)
        config.problem_type = config.problem_type or "single_label_classification"
        if config.problem_type not in ("single_label_classification", "regression"):
            raise UserError(
                f"problem_type must be 'single_label_classification' or 'regression', got {config.problem_type!r}"
            )
        self.vqdna = VQDNAModel(config)
        self.classifier = ClassificationHead(config)
        self.post_init()

    def encode(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ):
        """The encoder's output and the attention mask it used. With "cls" pooling a [CLS] token
        goes in front of every sequence here, in the model, not in the tokenizer: the token ids
        (and a token cache built from them) stay the same for every head, and the encoder was
        pretrained without it (its [CLS] embedding is trained in fine-tuning, with LoRA too:
        `cls_embedding_rows`). Every hidden state then has `prefix_tokens` more positions than
        `input_ids`, in front."""
        if self.prefix_tokens:
            cls = torch.full_like(input_ids[:, :1], CLS_TOKEN_ID)  # every level of an HRQ id
            input_ids = torch.cat([cls, input_ids], 1)
            attention_mask = torch.cat([torch.ones_like(attention_mask[:, :1]), attention_mask], 1)
        encoded = self.vqdna(input_ids, attention_mask, output_hidden_states, output_attentions, return_dict=True)
        return encoded, attention_mask

    @property
    def prefix_tokens(self) -> int:
        """How many tokens `encode` puts in front of the sequence's own (a [CLS] for "cls" pooling)."""
        return int(self.config.pooling == "cls")

    def cls_embedding_rows(self) -> dict[str, list[int]]:
        """The embedding rows holding the [CLS] vector, by module name under the embeddings (the
        form of peft's `trainable_token_indices`): pretraining never saw the token, so its row
        must be trained in fine-tuning even where LoRA freezes the other embeddings. Empty
        unless pooling is "cls"."""
        if not self.prefix_tokens:
            return {}
        embeddings = self.vqdna.embeddings
        return {name: [CLS_TOKEN_ID] for name, m in embeddings.named_modules() if isinstance(m, nn.Embedding)}

    def head(self, hidden: Tensor, attention_mask: Tensor) -> Tensor:
        """Logits (float32) from `encode`'s last hidden states, pooled as `config.pooling` says. The
        head runs in float32 even under bf16 autocast: a regression output rounded to bfloat16's
        8 significant bits ties predictions that differ by under 0.4%, which costs Spearman."""
        pooled = POOLING[self.config.pooling](hidden, attention_mask)
        with torch.autocast(device_type=pooled.device.type, enabled=False):
            # in the head's own dtype: float32 under autocast, bfloat16 in a model cast to it
            return self.classifier(pooled.to(self.classifier.out.weight.dtype)).float()

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **_,
    ) -> SequenceClassifierOutput | tuple:
        if attention_mask is None:
            attention_mask = torch.ones(input_ids.shape[:2], dtype=torch.long, device=input_ids.device)
        encoded, attention_mask = self.encode(input_ids, attention_mask, output_hidden_states, output_attentions)
        logits = self.head(encoded.last_hidden_state, attention_mask)
        loss = None
        if labels is not None:
            if self.config.problem_type == "regression":
                loss = F.mse_loss(logits.squeeze(-1), labels.float())
            else:
                loss = F.cross_entropy(logits, labels.long())
        out = SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=encoded.hidden_states)
        return out if return_dict is not False else out.to_tuple()


# What a saved folder's config.json maps transformers' auto classes to. Saving copies this module
# and its relative imports beside the weights, so `AutoModel…from_pretrained(folder,
# trust_remote_code=True)` loads the folder where vqdna is not installed.
AUTO_MAP = {
    "AutoConfig": "modeling.VQDNAConfig",
    "AutoModel": "modeling.VQDNAModel",
    "AutoModelForMaskedLM": "modeling.VQDNAForMaskedCodeModeling",
    "AutoModelForSequenceClassification": "modeling.VQDNAForSequenceClassification",
}
for _name, _cls in (
    ("AutoModel", VQDNAModel),
    ("AutoModelForMaskedLM", VQDNAForMaskedCodeModeling),
    ("AutoModelForSequenceClassification", VQDNAForSequenceClassification),
):
    _cls.register_for_auto_class(_name)
VQDNAConfig.register_for_auto_class()


def _register_auto_classes() -> None:
    """So that transformers' AutoConfig / AutoModel / AutoModelForMaskedLM load vqdna folders
    without trust_remote_code once vqdna is imported."""
    from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification

    try:
        AutoConfig.register("vqdna", VQDNAConfig)
        AutoModel.register(VQDNAConfig, VQDNAModel)
        AutoModelForMaskedLM.register(VQDNAConfig, VQDNAForMaskedCodeModeling)
        AutoModelForSequenceClassification.register(VQDNAConfig, VQDNAForSequenceClassification)
    except ValueError:  # already registered (module reloaded)
        pass


_register_auto_classes()
