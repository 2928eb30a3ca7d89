# Generates crates/minilm/tests/reference.json once: token ids from the model's own
# tokenizer and sentence vectors from sentence-transformers, for the Rust port to match.
import json, sys
import sentence_transformers, transformers, tokenizers, torch
from sentence_transformers import SentenceTransformer
model_dir = sys.argv[1]
m = SentenceTransformer(model_dir, device="cpu")
texts = [
    "What is the international work limit?",
    "Employees may work internationally for up to 30 working days per calendar year.",
    "How far ahead do I have to ask before working from abroad?",
    "Laptops are refreshed every three years; the old one goes back to IT.",
    "Café déjà-vu: “smart quotes”, naïve résumés — and 海外勤務 under Ünïcödé!",
    "HSA/FSA (pre-tax) accounts: e.g. $1,250.50 per year, ~10% match... [see §4.2]",
    "",
    " ".join(["The travel policy applies to every business trip booked through the portal."] * 30),
]
tok = m.tokenizer
out = {
    "generated_by": f"sentence-transformers {sentence_transformers.__version__}, transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, torch {torch.__version__}",
    "max_seq_length": m.max_seq_length,
    "cases": [],
}
vecs = m.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
for t, v in zip(texts, vecs):
    ids = tok(t, truncation=True, max_length=m.max_seq_length)["input_ids"]
    out["cases"].append({"text": t, "ids": ids, "vector": [round(float(x), 7) for x in v]})
json.dump(out, open(sys.argv[2], "w"), indent=None, ensure_ascii=False)
print(out["generated_by"], [len(c["ids"]) for c in out["cases"]])
