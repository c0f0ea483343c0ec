"""Resume: bring a campaign back to its stored state, and finish what others left.

``restore`` runs once when a campaign object starts on a store that already holds work: the
strategy replays the told history, the surrogate reloads this owner's latest fine-tuned
checkpoint, and picks of this owner's last round that were cut off before being claimed
are claimed again (so a resumed run verifies exactly what an uninterrupted one would).
``recover`` runs before every round: claims of this owner's earlier life, and claims of
workers whose heartbeat stopped, are taken over and verified. ``sync_strategy`` tells the
strategy what other workers verified meanwhile.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from searchlab.campaign import upkeep
from searchlab.core.candidate import Candidate
from searchlab.store.claims import ROUND

if TYPE_CHECKING:
    from searchlab.campaign.loop import Campaign


def restore(c: Campaign) -> None:
    """Bring a fresh strategy and surrogate to the stored state; re-claim cut-off picks."""
    c.store.drop_incomplete_claims()  # a kill inside claim(): the round re-claims it
    rounds = c.store.rounds()
    history = [
        (r.candidate(), r.values if r.state == "COMPLETE" else None) for r in c.store.finished()
    ]
    c.strategy.restore(history, rounds[-1]["asks"] if rounds else 0)
    ckpt = c.store.state(upkeep.state_key(c, "checkpoint"))
    if c.surrogate is not None and ckpt and Path(ckpt).exists():
        c.surrogate.load(ckpt)
    elif c.surrogate is not None and c.store.state(upkeep.state_key(c, "finetuned_on"), 0):
        c.force_finetune = True  # the fine-tuned weights were not kept: redo them
    owner = c.store.claims.owner
    mine = [r for r in rounds if r.get("owner", "main") == owner]
    if not mine:
        return
    last = mine[-1]
    claimed = {t.key for t in c.store.trials()}
    scored = {e["key"]: e for e in last.get("scored", [])}
    genotypes = dict(zip(last.get("chosen", []), last.get("chosen_genotypes", [])))
    for key in last.get("chosen", []):  # killed between saving the round and claiming
        if key not in claimed:
            entry = scored.get(key)
            cand = _candidate_from_round(c, key, genotypes.get(key))
            c.claim(cand, last["index"], entry, last.get("model"))


def recover(c: Campaign) -> None:
    """Finish the claims left by this owner's earlier life or by workers gone silent."""
    claims, todo = c.store.claims, []
    recoverable = claims.recoverable()
    if not recoverable:  # the usual case: a cheap query, no round records read
        return
    saved = {r["index"] for r in c.store.rounds()}
    for claim in recoverable:
        if not claims.take_over(claim):
            continue  # another worker took it first
        if claim.key.startswith(ROUND):
            index = int(claim.key[len(ROUND) :])
            if index not in saved and claim.owner == claims.owner:
                claims.release(claim.key)  # our own round: redo it under the same index
                continue
            if index not in saved:  # a worker died before writing it: keep rounds whole
                c.store.save_round(index, {"asks": index + 1, "abandoned": claim.owner})
            claims.finish(claim.key)
            continue
        number = claim.trial
        if number is None:
            number = c.store.running_trial(claim.key)
        record = None if number is None else c.store.trial(number)
        if record is None:  # claimed, no trial yet: the key may simply be proposed again
            claims.release(claim.key)
        elif record.state != "RUNNING":
            claims.finish(claim.key)
        else:
            todo.append((record.number, record.candidate()))
    # in trial order, as an uninterrupted run verifies them: a claim whose trial number was
    # found only now (cut off before it was attached) must not be finished after later ones,
    # or a kill in between would leave a hole in the verified order
    c.verify_and_tell(sorted(todo, key=lambda item: item[0]))


def sync_strategy(c: Campaign) -> None:
    """Tell the strategy what other workers verified since (nothing when working alone)."""
    new = [r for r in c.store.finished() if r.key not in c.strategy.told]
    if new:
        c.strategy.tell(
            [r.candidate() for r in new],
            [r.values if r.state == "COMPLETE" else None for r in new],
        )


def _candidate_from_round(c: Campaign, key: str, genotype_json: str | None) -> Candidate:
    if genotype_json is None:
        raise RuntimeError(f"round record lacks the genotype of chosen candidate {key}")
    cand = c.space.candidate(json.loads(genotype_json))
    if cand.key != key:
        raise RuntimeError(f"candidate {key} rebuilt with another key {cand.key}")
    return cand
