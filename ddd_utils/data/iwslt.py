"""IWSLT'14 German-English for chapter 6's GPU presets: read with Hugging Face `datasets`, tokenized with byte-pair
encodings (Hugging Face `tokenizers`) fitted on the training split, one per language.

The corpus's original download link no longer works; it is read from a public copy on the Hugging Face Hub
(`REPO`), as the Parquet files of the Hub's export (`REVISION`): one folder per split holding Parquet files with a
`translation` column of {"de": ..., "en": ...} records. They are downloaded on first use into `<root>/iwslt14`.
(`datasets` and `tokenizers` are the `text` extra: `pip install "ddd-utils[text]"`.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ddd_utils._checks import check_positive_int

if TYPE_CHECKING:
    from tokenizers import Tokenizer

REPO = "bbaaaa/iwslt14-de-en"
REVISION = "refs/convert/parquet"  # the Hub's Parquet export of the repository
SPLITS = ("train", "validation", "test")
SPECIAL_TOKENS = ("[PAD]", "[BOS]", "[EOS]", "[UNK]")  # ids 0, 1, 2, 3: the PAD, BOS and EOS of data.translation


def split_files(root: str | Path, split: str) -> list[Path]:
    """The Parquet files of one split under `<root>/iwslt14` (a folder named after the split, at any depth)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    return sorted(path for path in (Path(root) / "iwslt14").rglob("*.parquet") if path.parent.name == split)


def download(root: str | Path) -> Path:
    """Fetch the Parquet export of `REPO` into `<root>/iwslt14` (needs the network)."""
    from huggingface_hub import snapshot_download

    target = Path(root) / "iwslt14"
    snapshot_download(REPO, repo_type="dataset", revision=REVISION, local_dir=target, allow_patterns=["*.parquet"])
    return target


def load_pairs(root: str | Path, split: str) -> tuple[list[str], list[str]]:
    """(German sentences, English sentences) of one split, in the corpus's order; downloads the corpus first when
    `<root>/iwslt14` holds no file of that split."""
    import datasets

    files = split_files(root, split)
    if not files:
        download(root)
        files = split_files(root, split)
    if not files:
        raise FileNotFoundError(f"no Parquet files of split {split!r} under {Path(root) / 'iwslt14'} (expected a "
                                f"folder named {split!r} holding them, as in {REPO}'s Parquet export)")
    table = datasets.load_dataset("parquet", data_files=[str(path) for path in files], split="train")
    translations = table["translation"]
    return [pair["de"] for pair in translations], [pair["en"] for pair in translations]


def fit_tokenizer(sentences: list[str], vocab_size: int) -> Tokenizer:
    """A lower-casing byte-pair tokenizer with `vocab_size` tokens, fitted on `sentences`; the special tokens come
    first, so padding is id 0, start 1, end 2."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer

    tokenizer = Tokenizer(BPE(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = BpeTrainer(vocab_size=check_positive_int("vocab_size", vocab_size),
                         special_tokens=list(SPECIAL_TOKENS), show_progress=False)
    tokenizer.train_from_iterator(sentences, trainer)
    return tokenizer


def encode(tokenizer: Tokenizer, sentences: list[str]) -> list[np.ndarray]:
    """Token ids of each sentence (no start or end token: `translation.teacher_forcing` adds them)."""
    return [np.array(encoding.ids, dtype=np.int64) for encoding in tokenizer.encode_batch(sentences)]
