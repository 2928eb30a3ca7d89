"""The Python side of the `vs rank_bm25` and `vs numpy` lines that `make bench` prints.

benches/figures.rs writes the 10 MB corpus's chunks as ragtrace indexed them (each
chunk's terms, and its vectors as float32) with the queries, runs this in the bench
venv, and prints both sides. Each round times every query once; printed back as JSON:
milliseconds per query, one mean per round, for BM25 top-5 (rank_bm25's BM25Okapi,
get_scores, then the five best) and dense top-5 (numpy's brute force: one matrix-vector
product, argpartition, then the five sorted).
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi
from threadpoolctl import threadpool_info


def top5(scores):
    best = np.argpartition(-scores, 5)[:5]
    return best[np.argsort(-scores[best])]


def main(folder, rounds):
    folder = Path(folder)
    terms = [json.loads(line) for line in (folder / "terms.jsonl").open()]
    queries = [json.loads(line) for line in (folder / "queries.jsonl").open()]
    dim = len(queries[0]["vector"])
    matrix = np.fromfile(folder / "vectors.f32", dtype="<f4").reshape(len(terms), dim)
    vectors = [np.asarray(q["vector"], dtype=np.float32) for q in queries]
    bm25 = BM25Okapi(terms, k1=1.2, b=0.75)
    out = {"bm25": [], "dense": [], "bm25_top": [], "dense_top": []}
    for _ in range(rounds):
        start = time.perf_counter()
        tops = [top5(bm25.get_scores(q["terms"])) for q in queries]
        out["bm25"].append((time.perf_counter() - start) * 1e3 / len(queries))
        out["bm25_top"] = [t.tolist() for t in tops]
        start = time.perf_counter()
        tops = [top5(matrix @ v) for v in vectors]
        out["dense"].append((time.perf_counter() - start) * 1e3 / len(queries))
        out["dense_top"] = [t.tolist() for t in tops]
    blas = [f"{i.get('internal_api')} {i.get('architecture', '')} {i.get('num_threads')} threads".strip()
            for i in threadpool_info() if i.get("user_api") == "blas"]
    out["blas"] = ", ".join(blas) or "none"
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
