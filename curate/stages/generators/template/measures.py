"""How many of something a sentence says its subject has: "The Rotterdam warehouse covers 21,500
square metres" asked as "How many square metres does the Rotterdam warehouse cover?".

Only a sentence that opens on its subject (a determiner and a few words) and goes straight on to
one of a few verbs of quantity is turned round; anything longer is left to the blanks."""

from __future__ import annotations

import re

from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import in_citation, trimmed

# verb as written -> (its base form, the auxiliary the question takes)
VERBS = {
    "has": ("have", "does"),
    "have": ("have", "do"),
    "had": ("have", "did"),
    "covers": ("cover", "does"),
    "covered": ("cover", "did"),
    "employs": ("employ", "does"),
    "employed": ("employ", "did"),
    "contains": ("contain", "does"),
    "contained": ("contain", "did"),
    "includes": ("include", "does"),
    "included": ("include", "did"),
    "holds": ("hold", "does"),
    "held": ("hold", "did"),
    "lists": ("list", "does"),
    "listed": ("list", "did"),
    "counts": ("count", "does"),
    "counted": ("count", "did"),
    "handled": ("handle", "did"),
    "handles": ("handle", "does"),
    "received": ("receive", "did"),
    "receives": ("receive", "does"),
    "recorded": ("record", "did"),
    "records": ("record", "does"),
    "produced": ("produce", "did"),
    "produces": ("produce", "does"),
    "serves": ("serve", "does"),
    "served": ("serve", "did"),
    "uses": ("use", "does"),
    "used": ("use", "did"),
    "requires": ("require", "does"),
    "required": ("require", "did"),
    "needs": ("need", "does"),
    "takes": ("take", "does"),
    "took": ("take", "did"),
    "lasts": ("last", "does"),
    "lasted": ("last", "did"),
    "weighs": ("weigh", "does"),
    "weighed": ("weigh", "did"),
}
_DETERMINER = r"(?:The|A|An|Our|Its|This|That|These|Those|Each|Every|Their)"
SENTENCE = re.compile(
    rf"(?:^|(?<=[.!?]\s))(?P<subject>{_DETERMINER}(?: [\w’'-]+){{1,5}}?) (?P<verb>"
    + "|".join(VERBS)
    + r") (?:about |around |nearly |almost |over |some |up to )?"
    r"(?P<number>\d[\d,]*(?:\.\d+)?) (?P<unit>[a-z][a-z-]+(?: [a-z][a-z-]+)?)(?=[\s.,;]|$)"
)
# words that end a subject early or make the sentence something else than a plain statement
_NOT_SUBJECT = frozenset(
    "is are was were be been not no never which who that if when where while because".split()
)
_NOT_UNIT = frozenset("and or of to in on at for from with by per the a an than".split())


def find_measures(page: PageView) -> list[Candidate]:
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM, BlockRole.CAPTION):
            continue
        if page.cites(block):
            continue
        for match in SENTENCE.finditer(block.text):
            subject, verb, unit = match["subject"], match["verb"], match["unit"]
            words = subject.lower().split()
            if _NOT_SUBJECT & set(words) or unit.split()[0] in _NOT_UNIT:
                continue
            if unit.split()[-1] in _NOT_UNIT:
                unit = unit.split()[0]
            if in_citation(block.text, match.start("number"), match.end("number")):
                continue
            base, auxiliary = VERBS[verb]
            phrase = subject[0].lower() + subject[1:]
            question_fields = {"unit": unit, "auxiliary": auxiliary, "subject": phrase}
            question_fields["verb"] = base
            answer = trimmed(match["number"])
            found.append(Candidate("measure", question_fields, answer, block))
    return found


MEASURES = QuestionKind(
    "quantity a sentence states",
    find_measures,
    {
        "measure": (
            "According to image {n}, how many {unit} {auxiliary} {subject} {verb}?",
            "How many {unit} {auxiliary} {subject} {verb}, as image {n} states?",
        )
    },
)
