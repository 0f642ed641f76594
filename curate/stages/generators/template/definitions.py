"""What a sentence says its subject is, or is for: "bzip2 is a freely available, high-quality
data compressor." asked as "What is bzip2?", "The -k option is used to keep input files."
as "What is the -k option used for?".

Only a whole sentence that opens on a short subject (a name, or a determiner and a few words;
never a pronoun) and goes straight on to "is a/an/the", "are", "refers to", "stands for",
"means" or "is used to/for" is turned round; its answer is the rest of the sentence, copied."""

from __future__ import annotations

import re
from collections import Counter

from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import (
    MATH,
    STOP,
    URL,
    in_citation,
    sentence_spans,
)

# words a sentence's subject never opens with: it points back (a pronoun) or joins a clause
_NOT_A_SUBJECT = frozenset(
    """it this that these those there here he she they we you i one each such which what who
    another other some all both its their our his her my your if when whenever while however
    thus also so but and or then now since because although though as for in on at by with
    from to of after before first finally next only most many much more several no not
    every any either neither where why how too very few less least quite rather""".split()
)
_SUBJECT = r"(?P<subject>(?:(?:The|A|An)\s)?[\w-][\w.+#'’/-]*(?:\s[\w][\w.+#'’/-]*){0,3})"
# candidate kind -> how its sentence reads: subject, verb, answer
PATTERNS = {
    "definition": re.compile(
        rf"^{_SUBJECT}\s(?P<verb>is|are|was|were)\s(?P<answer>(?:a|an|the|one of)\s.+)$", re.S
    ),
    "meaning": re.compile(
        rf"^{_SUBJECT}\s(?P<verb>refers to|stands for|means|denotes)\s(?P<answer>.+)$", re.S
    ),
    "use": re.compile(rf"^{_SUBJECT}\s(?P<verb>is|are)\sused\s(?P<answer>(?:to|for)\s.+)$", re.S),
}
# Korean: "X은/는 Y이다." (X is Y): X a name written in Latin letters (a Korean noun before
# 은/는 is often the sentence's topic, not what it defines: "과학문헌은 ... 관례이다" says what
# is customary in papers, blind audit, seed 50), Y the noun phrase before the copula
_KO_DEFINITION = re.compile(
    r"^(?P<subject>[A-Za-z][A-Za-z0-9.+#_-]{1,24})(?P<particle>이란|란|은|는)\s+"
    r"(?P<answer>[^.。!?]{4,120}?)(?:이다|입니다)\.$"
)
_CJK_DEFINITION = re.compile(
    r"^(?P<subject>[^\s、。，,「」（）()]{2,12})(?:とは|というのは)、?(?P<answer>.{4,60}?)"
    r"(?:のことです|のことである|のこと|です|である)?。$"
    r"|^(?P<subject2>[^\s、。，,（）()]{2,10})是(?P<answer2>[^，,。]{4,40})。$"
)

# A definition by its kind, in Korean or Chinese: "토픽 브랜치는 ... 짧은 호흡의 브랜치다." (a
# topic branch is a short-lived branch), "主题分支是一种短期分支，..." The subject may be a
# Korean or Chinese noun here, since the answer names the subject's own head noun again: a
# sentence that only opens on its topic ("과학문헌은 ... 관례이다") does not.
_KO_GENUS = re.compile(
    r"^(?P<subject>[가-힣A-Za-z][가-힣A-Za-z0-9]*(?:\s[가-힣A-Za-z0-9]+){0,2}?)(?P<particle>은|는)\s+"
    r"(?P<answer>[^.。!?]{6,80}?)(?:이다|다|입니다)\.$"
)
_ZH_GENUS = re.compile(
    r"^(?P<subject>[\u4e00-\u9fffA-Za-z0-9]{2,10})\s?是(?P<answer>(?:一种|一个|一类|一款)[^，,。；;]{2,30})[，,。；;]"
)
# a name in Latin letters ("TEXworks 是一款轻量级的 LaTeX 编辑器"): no head noun of its own to
# end the answer on, but "一种/一款" (a kind of) says the answer is its kind
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]+")
# "일종의 단축 명령어" (a kind of shortcut command): a noun phrase, not a clause going on
# ("일종의 북마크라고 할 수 있다": can be called a kind of bookmark)
_KIND_OF = re.compile(r"일종의(?:\s[가-힣A-Za-z0-9]+){1,3}(?<![고있수것])")
# a subject's first word that points at its context or joins a clause: "아래 두 명령" (the two
# commands below), "그리고 나머지 파일" (and the remaining files), "가장 재밌는 옵션" (the most
# interesting option) have no one answer on another page
_POINTING = frozenset(
    """이 그 저 이것 그것 저것 이런 그런 이는 아래 위 다음 앞 뒤 여기 여기서 거기 그리고 그러나
    하지만 또 또한 그래서 즉 나머지 가장 모든 각 이번 지금""".split()
)


# what a subject names only in its context ("the same function", "the result"): no question
# asked of it alone has one answer
_CONTEXTUAL = frozenset(
    """same result results example examples following former latter above below first second
    last next previous other others new main only value values way case cases thing things
    problem idea reason answer solution point output input third fourth fifth sixth""".split()
)


def sentences(paragraph: str) -> list[str]:
    """The paragraph's whole sentences (see `sentence_spans`)."""
    return [paragraph[start:end] for start, end in sentence_spans(paragraph)]


def _fits(subject: str, answer: str, sentence: str) -> bool:
    """A subject that names something, and an answer that is a phrase of prose."""
    words = subject.split()
    determiner = words[0] in ("The", "A", "An")
    named = words[1:] if determiner else words
    if not named or words[0].lower() in _NOT_A_SUBJECT and not determiner:
        return False
    if any(w.lower() in STOP | _NOT_A_SUBJECT | _CONTEXTUAL for w in named) or named[0].isdigit():
        return False  # "underlying cipher and f", "the same function": no name
    if words[0] == "The" and len(named) == 1 and named[0].islower() and named[0].isalpha():
        return False  # "The default is ...": the default of what?
    if "-\n" in subject + answer or "^" in answer or re.search(r"\(see\b|\[", answer):
        return False  # a word broken at the line's end, an accent read flat, a pointer
    if re.search(r"[^\W\d_]{2,}\.\s+\w", answer):
        return False  # "... messages. see Debugging Applications ...": two sentences (seed 48)
    size = len(answer.split())
    return (
        2 <= size <= 30
        and answer.count("(") == answer.count(")")
        and not MATH.search(sentence)
        and not URL.search(sentence)
        and not re.search(r"\[\d", sentence)  # "[12]": what a reference says, not the page
        and not in_citation(sentence, 0, len(sentence))
        and not re.search(r"\b(following|below|above|shown|this|these)\W*$", answer)
        and not re.match(
            r"(a little|a lot|a bit|the same|the case|the only|an example|one example)\b", answer
        )
        and not re.match(r"[A-Z]\w+ing\b", subject)  # "Verifying signatures is ...": a clause
    )


_BASE = {"refers to": "refer to", "stands for": "stand for", "means": "mean", "denotes": "denote"}


def _question_subject(subject: str) -> str:
    """ "The default value" reads "the default value" inside a question; a name stays."""
    first, _, rest = subject.partition(" ")
    return f"{first.lower()} {rest}" if first in ("The", "A", "An") and rest else subject


def find_definitions(page: PageView) -> list[Candidate]:
    found = []
    for paragraph, block in page.paragraphs():
        for sentence in sentences(paragraph):
            kind, match = next(
                ((k, m) for k, p in PATTERNS.items() if (m := p.match(sentence.rstrip(".!?")))),
                ("", None),
            )
            if match:
                subject, verb, answer = match["subject"], match["verb"], match["answer"]
                if not _fits(subject, answer, sentence):
                    continue
                if kind == "meaning" and re.match(r"that\b|.* as\b", answer):
                    continue  # "X means that ...", "refers to Y as Z": no meaning of X
                subject, answer = " ".join(subject.split()), " ".join(answer.split())
                fields = {"subject": _question_subject(subject), "verb": verb}
                fields["verb_base"] = _BASE.get(verb, verb)
                found.append(Candidate(kind, fields, answer.strip(), block))
                continue
            # on one line: a Korean line may break inside a word or between two, and a quote
            # joined the wrong way reads "사용 하지만" (blind audit, seed 48)
            korean = None if "\n" in sentence.strip() else _korean_definition(sentence.strip())
            if korean and page.unique(korean[0]):
                subject, particle, answer = korean
                fields = {"subject": subject, "particle": particle}
                found.append(Candidate("ko_definition", fields, answer, block))
                continue
            genus = None if "\n" in sentence.strip() else _genus_definition(sentence.strip())
            if genus:
                subject, particle, answer = genus
                kind = "ko_definition" if particle else "zh_definition"
                fields = {"subject": subject, "particle": particle}
                found.append(Candidate(kind, fields, answer, block))
                continue
            match = _CJK_DEFINITION.match(sentence)
            if match:
                subject = match["subject"] or match["subject2"]
                answer = (match["answer"] or match["answer2"]).strip("、，, ")
                kind = "cjk_definition" if match["subject"] else "zh_definition"
                if subject.endswith("的"):
                    continue  # "值得注意的是 ...": what is worth noting is ..., no subject
                if len(answer) >= 4 and page.unique(subject):
                    found.append(Candidate(kind, {"subject": subject}, answer, block))
    # a subject with two definitions by its kind on the page has no one answer
    subjects = Counter(c.fields["subject"] for c in found if c.kind.endswith("_definition"))
    return [c for c in found if subjects[c.fields.get("subject")] < 2 or "particle" not in c.fields]


def _genus_definition(sentence: str) -> tuple[str, str, str] | None:
    """(subject, its topic particle or "", answer) of a Korean or Chinese sentence that says
    what kind of thing its subject is: the answer ends on the subject's own head noun, or
    says it is a kind of something ("일종의 단축 명령어"; "一种/一款" after a Latin name)."""
    match = _KO_GENUS.match(sentence)
    if match:
        subject, answer = match["subject"], match["answer"].strip()
        head = subject.split()[-1]
        if (
            subject.split()[0] in _POINTING
            or len(head) < 2  # "이미 있는": a verb's ending, not a noun's particle
            or len(answer.split()) < 2
            or not (answer.split()[-1].endswith(head) or _KIND_OF.fullmatch(answer))
            or re.search(r"(?:이며|이고)\s", answer)  # two predicates: "레퍼런스이며 브랜치"
            or MATH.search(answer)
        ):
            return None
        return subject, match["particle"], answer
    match = _ZH_GENUS.match(sentence)
    if (
        match
        and match["subject"][0] not in "这那它其此该本"
        and (
            match["answer"].endswith(match["subject"][-2:])
            or _LATIN_NAME.fullmatch(match["subject"])
        )
    ):
        return match["subject"], "", match["answer"]
    return None


def _korean_definition(sentence: str) -> tuple[str, str, str] | None:
    """(subject, its topic particle as a question puts it, answer) of "X은/는 Y이다.", where
    Y is a noun phrase: its last word two syllables or more ("크기를 줄이다" is a verb,
    "...하는 것이다" a clause)."""
    match = _KO_DEFINITION.match(sentence)
    if not match:
        return None
    answer = match["answer"].strip()
    words = answer.split()
    if len(words) < 2 or len(words[-1]) < 2 or words[-1].endswith("것") or MATH.search(answer):
        return None
    particle = {"이란": "은", "란": "는"}.get(match["particle"], match["particle"])
    return match["subject"], particle, answer


DEFINITIONS = QuestionKind(
    "what a sentence says its subject is",
    find_definitions,
    {
        "definition": (
            "According to image {n}, what {verb} {subject}?",
            "What {verb} {subject}, as image {n} describes it?",
        ),
        "meaning": ("On image {n}, what does {subject} {verb_base}?",),
        "use": ("According to image {n}, what {verb} {subject} used for?",),
        "cjk_definition": ("画像{n}によると、{subject}とは何ですか？",),
        "zh_definition": ("根据图{n}，{subject}是什么？",),
        "ko_definition": ("이미지 {n}에 따르면 {subject}{particle} 무엇입니까?",),
    },
)
