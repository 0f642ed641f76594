"""The checks LLM items pass, table-driven: what each accepts and rejects, from the classes the
strong-model simulation (benchmarks/strong_model.py) found kept or lost."""

from __future__ import annotations

import pytest

from curate.core.text import normalize
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.checks import (
    aligned_cells,
    answer_fits_question,
    answers_agree,
    arithmetic_checked,
    builds_on,
    claims_grounded,
    copies_page,
    cut_short,
    equations_hold,
    furniture_only,
    identifiers_on_page,
    is_question,
    listed_counts,
    location_only,
    table_neighbourhood,
    used_images,
)


@pytest.mark.parametrize(
    ("first", "second", "agree"),
    [
        ("Article 18", "18", True),
        ("an open-source framework", "open-source framework", True),
        ("Section 102(b)", "Section 102(c)", False),  # one character off: another section
        ("Section 5", "Section 6", False),
        ("₹7,92,758 crore", "₹7,92,756 crore", False),
        ("coint.res", "coint.res + diff.income", False),  # a cut answer inside the whole one
        ("error correction model", "error correction model (ECM)", True),
        # a name cut two words or more before its end, however much of it is left
        ("New York State Department", "New York State Department of Health", False),
        ("Value Reporting Foundation", "Value Reporting Foundation (VRF)", True),
        # in CJK text, with no spaces, a name cut short is cut all the same
        ("既知の脆弱性", "既知の脆弱性のあるコンポーネントの使用", False),
        ("インジェクション", "インジェクション。", True),
        ("リモートからのコード実行", "リモートからのコード実行です", True),  # one word more
    ],
)
def test_verified_answers_agree_only_on_every_number_and_most_of_the_words(first, second, agree):
    assert answers_agree(first, second) is agree


@pytest.mark.parametrize(
    ("answer", "on_page"),
    [
        ("Section 102(c)", True),
        ("Section 102(b)", False),
        ("paragraph (k)", False),
        ("₹7,92,756 crore", True),
        ("₹7,92,758 crore", False),
        ("Boeing", True),
    ],
)
def test_an_answers_numbers_and_marks_are_on_the_page_exactly(answer, on_page):
    page = "Under Section 102(c) and paragraph (j), Boeing reported revenue of ₹7,92,756 crore."
    assert identifiers_on_page(answer, page) is on_page


def test_indian_digit_groups_are_one_number():
    assert normalize("₹17,81,841 crore") == normalize("₹1781841 crore")
    assert normalize("12,50") == "12,50"  # a decimal comma is no group


@pytest.mark.parametrize(
    ("claim", "grounded"),
    [
        (
            "At 1,781,841 crore, market capitalisation is about 2.25 times the revenue of 792,756.",
            True,
        ),
        ("It is about 1.7% of the 67,845 net profit (1,186 ÷ 67,845 ≈ 0.017).", True),
        ("Hill described it in 1979, 18 years after the 1961 proposal.", True),
        ("It is about 2.5% of the 67,845 net profit of 1,186.", False),  # wrong arithmetic
        ("It is 3 times the revenue of 792,756.", False),
        # a count of the items the claim lists is worked from that list
        ("Revenue, net profit and CSR are given: 3 figures, 1,186 the smallest.", True),
        ("Revenue, net profit, and CSR are the 3 figures of the year.", True),
        ("Revenue and net profit are the 3 figures of the year.", False),  # two listed
        ("Revenue, net profit and CSR are named, plus 1,186 others: 3 + 1,186 = 1,190.", False),
        # two years span one more year than lies between them, counting both
        ("From 1961 to 1979 inclusive is 19 years (1979 − 1961 + 1 = 19).", True),
        ("From 1961 to 1979 inclusive is 20 years (1979 − 1961 + 1 = 20).", False),
        ("The CSR of 1,186 and 1 more is 1,186 + 1 = 1,187.", False),  # not years
    ],
)
def test_a_follow_ups_arithmetic_is_recomputed(claim, grounded):
    page = "Revenue 792,756; net profit 67,845; CSR 1,186; market cap 1,781,841. 1961 and 1979."
    assert arithmetic_checked(claim, page) is grounded


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("GRI Standards, NVGs and UN SDGs are named", {3}),
        ("red, green, blue, or yellow", {4}),
        ("42 years and 2 months", set()),  # two parts are no list to count
        ("from 1959, 1960 and 1961", set()),  # numbers are counted as numbers
        ("in the long first clause of this text, A and B", set()),
    ],
)
def test_a_list_of_three_or_more_short_items_can_be_counted(text, counts):
    assert listed_counts(text) == counts


def test_a_possessive_names_what_the_page_names():
    assert claims_grounded("What does it say about AutoGen's scope?", "AutoGen is a framework.")
    assert not claims_grounded(
        "What does it say about Zanzibar's scope?", "AutoGen is a framework."
    )


@pytest.mark.parametrize(
    ("claim", "grounded"),
    [
        ("Existing FAA-approved MELs may still be used.", True),  # an acronym's plural
        ("Existing FAA-approved MALs may still be used.", False),
        ("The NVGs are guidelines.", True),  # the page prints the plural itself
        ("The NVG is a guideline.", False),
        ("The figure uses Indian digit grouping.", True),  # the adjective of a place named
        ("Canadian and Chinese operators report it too.", True),
        ("The figure uses Italian digit grouping.", False),
        ("The Indonesian report says so.", False),
    ],
)
def test_a_name_may_be_an_acronyms_plural_or_the_adjective_of_a_place(claim, grounded):
    page = (
        "The operator's existing FAA-approved MEL. Largest company in India, Canada and China. "
        "National Voluntary Guidelines (NVGs)"
    )
    assert claims_grounded(claim, page) is grounded


@pytest.mark.parametrize(
    ("answer", "cut"),
    [("04191ea8-", True), ("Inter-", True), ("open-source framework", False), ("Next-Gen", False)],
)
def test_an_answer_cut_at_a_word_broken_over_lines(answer, cut):
    assert cut_short(answer) is cut


def test_an_answer_only_a_running_header_gives_is_page_furniture():
    blocks = [
        TextBlock("Thursday, August 6, 2020 / Proposed Rules", (0, 0, 9, 9), role="header_footer"),
        TextBlock("Comments must be received by September 21, 2020.", (0, 20, 9, 29)),
    ]
    assert furniture_only("Thursday, August 6, 2020", blocks)
    assert not furniture_only("September 21, 2020", blocks)


def test_a_table_cell_is_asked_by_its_row_and_column():
    """A slide's table comes out one cell per line: "In the table, what is the ColE of the row
    that begins with 13?" -> "17" has no word of the question beside "17" in the text."""
    rows = [["ColA", "ColB", "ColE"], ["1", "2", "5"], ["13", "14", "17"]]
    blocks = [
        TextBlock(text, (0, 0, 9, 9), role=BlockRole.TABLE_CELL, cell=(0, r, c))
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
    ]
    lines = [b.text for b in blocks]
    question = "What value is in column ColE of the row that begins with 13?"
    assert not answer_fits_question(question, "17", lines)
    assert answer_fits_question(question, "17", lines, cells=table_neighbourhood("17", blocks))
    wrong = "What value is in column ColB of the row that begins with 1?"
    assert not answer_fits_question(wrong, "17", lines, cells=table_neighbourhood("17", blocks))


def _grid(rows: list[list[str]], x: float = 100, y: float = 30) -> list[TextBlock]:
    """A table the text layer gives as loose lines: each cell its own block, no table found."""
    return [
        TextBlock(text, (c * x, r * y, c * x + 8 * len(text), r * y + 12))
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
    ]


@pytest.mark.parametrize(
    ("question", "answer", "fits"),
    [
        ("What is the level-2 rating for Weakness Prevalence?", "Common", True),
        ("What does the Technical Impact column give at level 1?", "Minor", True),
        ("What is the level-2 rating for Technical Impact?", "Common", False),  # other column
        ("What is the 2nd rating for Exploitability?", "Uncommon", False),
        ("What is the level-2 rating in the Technical Impact column?", "Average", False),
        ("格付表で「弱点の蔓延度」の列のレベル2に当たる評価は何ですか？", "よく見られる: 2", True),
    ],
)
def test_a_cell_of_a_table_given_as_loose_lines_is_asked_by_its_column_and_row(
    question, answer, fits
):
    """A slide's rating grid, each cell its own line: the question names the column above the
    cell and the level on its row, none of them on the cell's line or the lines beside it."""
    blocks = _grid(
        [
            ["", "Exploitability", "Weakness Prevalence", "Technical Impact", "弱点の蔓延度"],
            ["3", "Easy", "Widespread", "Severe", "広い: 3"],
            ["2", "Average", "Common", "Moderate", "よく見られる: 2"],
            ["1", "Difficult", "Uncommon", "Minor", "まれ: 1"],
        ]
    )
    blocks = [b for b in blocks if b.text]
    lines = [b.text for b in sorted(blocks, key=lambda b: (b.bbox[0], b.bbox[1]))]  # by column
    cells = table_neighbourhood(answer, blocks)
    assert answer_fits_question(question, answer, lines, cells=cells) is fits


def test_a_value_of_printed_program_output_is_named_by_the_header_above_it():
    """R prints a matrix as lines of values under a line of column names."""
    mono = 6.0
    lines = [
        "                   standard     basic      CL-1      boot",
        "count_institutions 0.0016022 0.0024664 0.0043029 0.0041135",
        "zero_institutions  0.0013508 0.0013473 0.0020870 0.0020777",
    ]
    blocks = [TextBlock(t, (0, 20 * i, mono * len(t), 20 * i + 10)) for i, t in enumerate(lines)]
    words = aligned_cells("0.0043029", blocks)
    assert words == [("CL-1", "count_institutions 0.0016022 0.0024664")]
    assert aligned_cells("0.00430", blocks) == []  # a piece of a value is no cell
    prose = [TextBlock("The clustered standard error of 0.0043029 is larger", (0, 40, 300, 50))]
    assert aligned_cells("0.0043029", blocks[:1] + prose) == []  # a sentence is no row of cells


@pytest.mark.parametrize(
    ("explanation", "located"),
    [
        ('It appears in the body text of the slide, in the sentence beginning "AutoGen serves '
         'as a generic framework".', True),
        ("It is in the Rationale section, in the third paragraph.", True),
        ("AutoGen is meant for many kinds of applications, so it is built as a generic framework "
         "rather than for one use case.", False),
    ],
)  # fmt: skip
def test_a_follow_up_that_only_locates_its_answer_even_quoting_the_page(explanation, located):
    assert location_only(explanation, "generic framework", "What does AutoGen serve as?") is located


@pytest.mark.parametrize(
    ("question", "located"),
    [
        ("Where is the two-pilot effort mentioned?", True),
        ("Where on the page is the date of the 45th AGM given?", True),
        ("In which section does the slide state it?", True),
        ("Where does subsection 4.7 fall in the paper's sequence of CRC methods?", False),
        ("Why does the test need two pilots?", False),
        ("OWASP Risk Rating Methodology についてはどこに書かれていますか？", True),
        ("该命令在哪里提到？", True),
        ("이 규칙은 어디에 나와 있습니까?", True),
        ("機微な情報の露出は一覧のどこに位置し、どう防ぐべきとされていますか？", False),
        ("侵害の検知に 200 日以上かかることは、なぜ問題なのですか？", False),
    ],
)
def test_a_follow_up_that_asks_where_is_a_location_however_its_answer_is_dressed(question, located):
    """Its answer names sections and neighbours, so it is made of more than place words."""
    explanation = (
        "It is mentioned in the paragraph on the Runaway Stabilizer checklist of the AFM, in "
        "the last sentence of that paragraph, just before the discussion of MELs."
    )
    assert location_only(explanation, "two-pilot effort", question) is located


def test_a_follow_up_that_copies_a_passage_of_the_page_repeats_it():
    page = "We use a simple error correction model (ECM) for the consumption function, as Hansen."
    assert copies_page(
        "We use a simple error correction model (ECM) for the consumption function.", page
    )
    assert not copies_page(
        "The ECM ties consumption to income, so a gap between them closes.", page
    )
    page = "最も一般的に見られる問題は、不適切なセキュリティの設定です。これは通常、安全でない"
    assert copies_page("最も一般的に見られる問題は、不適切なセキュリティの設定です。", page)
    assert not copies_page("設定の不備が最も多い。", page)  # short, and not the page's words


def test_a_cross_image_item_uses_the_fact_of_each_image_it_cites():
    evidence = [(1, "CRCs were proposed by Peterson and Brown in 1961"), (2, "Rolling CRC")]
    question, answer = "In what year were CRCs proposed by Peterson and Brown?", "1961"
    assert used_images(evidence, {1, 2}, f"{question} {answer}") == {1}
    both = "Which came first: the 1961 proposal or the Rolling CRC?"
    assert used_images(evidence, {1, 2}, f"{both} The 1961 proposal") == {1, 2}


def test_the_model_is_shown_a_tables_rows_and_text_cut_at_a_line():
    """A table's cells come out one per line in the page text; the model is shown them as rows
    under their header. The text is cut at a line break, never inside a word."""
    from curate.stages.generators.llm import shown_text

    rows = [["ColA", "ColB"], ["1", "2"], ["13", "14"]]
    blocks = [TextBlock("A table to test parsing:", (0, 0, 9, 9))] + [
        TextBlock(text, (0, 0, 9, 9), role=BlockRole.TABLE_CELL, cell=(0, r, c))
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
    ]
    assert shown_text(blocks, 3000) == "A table to test parsing:\nColA | ColB\n1 | 2\n13 | 14"
    assert shown_text(blocks, 40) == "A table to test parsing:\nColA | ColB"
    prose = [TextBlock("one two three", (0, 0, 9, 9)), TextBlock("four five six", (0, 9, 9, 18))]
    assert shown_text(prose, 18) == "one two three"
    assert shown_text(prose[:1], 9) == "one two"


@pytest.mark.parametrize(
    ("claim", "page", "grounded"),
    [
        # the text layer split a decimal after its point: the number is the page's
        ("Gross revenue grew to 467.9 crore.", "Gross revenue 467. 9 crore in FY22", True),
        ("Gross revenue grew to 467.8 crore.", "Gross revenue 467. 9 crore in FY22", False),
        # a number the page writes as a word, and one it does not state at all
        ("The slide names 5 application domains.", "AutoGen covers five domains", True),
        ("The slide names 6 application domains.", "AutoGen covers five domains", False),
        ("One of the rules is stated in the text.", "the rules are stated", True),  # no number
        # a numbered part named by its number: the page prints "2 Basic Idea", not "Section 2"
        ("Section 2 explains the basic idea of the test.", "2 Basic Idea\nThe test ...", True),
        ("Section 3 explains the basic idea of the test.", "2 Basic Idea\nThe test ...", False),
        ("Figure 1 plots personal income.", "Figure 1: personal income", True),
        # a contents page lists a section's subsections, not the section's own number
        (
            "Hashing (3.2) is part of Section 3, with sorting.",
            "3.1 Sorting 12\n3.2 Hashing 14",
            True,
        ),
        ("Hashing is part of Section 4, with sorting.", "3.1 Sorting 12\n3.2 Hashing 14", False),
    ],
)
def test_numbers_are_read_as_the_page_writes_them(claim, page, grounded):
    """Strong-model simulation: correct captions and follow-ups rejected as ungrounded for a
    decimal the text layer split ("467. 9"), a number the page spells ("five"), and a section
    named by its number where the page prints only the number and the section's name, or
    only its subsections' numbers."""
    assert claims_grounded(claim, page) is grounded
    assert arithmetic_checked(claim, page) is grounded  # the same, for a follow-up


def test_an_answer_the_text_layer_split_is_on_the_page():
    from curate.stages.generators.grounding import is_grounded

    assert is_grounded("467.9", "Revenue 467. 9 crore")
    assert identifiers_on_page("₹467.9 crore", "Revenue ₹467. 9 crore")
    assert not is_grounded("467.8", "Revenue 467. 9 crore")
    assert is_grounded("Step 1", "Step 1. 2 cups of flour")  # the page as written still counts
    # a Japanese cell broken over three lines is one word; Korean puts spaces between words
    assert is_grounded("アプリケーションによる", "平均的: 2\nアプリ\nケーショ\nンによる\n困難: 1")
    assert not is_grounded("아프리카대륙", "아프리카\n대륙")


def test_a_table_slides_caption_describes_it_in_words_no_cell_holds():
    """A slide of numbered cells: its caption counts columns and rows and says where the odd
    cell is; only its names and numbers can come from the page."""
    from curate.stages.generators.checks import mostly_from

    page = "A table to test parsing:\nColA\nColB\nColD\nColF\n1\n2\n7\n13\n18\n1b92870d"
    caption = (
        'This is a presentation slide titled "A table to test parsing:" containing a table with '
        "six columns, ColA to ColF, and three rows, numbered from 1 to 18, except that the ColD "
        "cell holds the identifier 1b92870d."
    )
    assert mostly_from(caption, page)
    assert not mostly_from("A slide about cooking pasta and baking six cakes for guests.", page)


def test_a_question_may_point_at_the_slide_that_contains_a_table():
    lines = ["A table to test parsing:", "ColA", "ColB", "1", "2"]
    question = "What is the title of the slide that contains the table?"
    assert answer_fits_question(question, "A table to test parsing", lines)
    assert not answer_fits_question("Which slide contains the cooking recipe?", "ColA", lines)


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("What is the fiscal year?", True),
        ("格付表の「脅威エージェント」の列には何と書かれていますか？", True),  # full-width mark
        ("安全でないデシリアライゼーションは何を誘発しますか?", True),
        ("A3:2017 のリスク名は何ですか？", True),
        ("其中哪一个是编辑器？", True),
        ("이 문서의 제목은 무엇입니까?", True),
        ("何？", False),  # one word, asked
        ("格付表の脅威エージェント", False),  # a heading, not asked
        ("1", False),
    ],
)
def test_a_question_in_any_script_ends_with_its_question_mark(text, asked):
    assert is_question(text) is asked


def test_a_follow_up_builds_on_its_answer_by_its_words_and_numbers():
    """A heading's number is half of it: "5.2 turns to Petersen's data" uses "5.2. Petersen
    (2009)"; a follow-up about another section does not."""
    answer = "5.2. Petersen (2009)"
    assert builds_on("After the hurdle model, 5.2 turns to Petersen's simulated data.", answer)
    assert not builds_on("After the hurdle model, 5.1 turns to the innovation data.", answer)


@pytest.mark.parametrize(
    ("claim", "holds"),
    [
        ("stored as 192 bits with a key size of 168, so 192 − 168 = 24 bits are parity", True),
        ("stored as 192 bits with a key size of 168, so 192 − 168 = 32 bits are parity", False),
        ("2 × 56 = 112 bits", True),
        ("2 x 56 = 110 bits", False),
        ("200 ÷ 30 ≈ 6.7 months", True),
        ("1,186 / 67,845 = 1.7%", True),  # a share written as a percentage
        ("1,186 / 67,845 = 2.7%", False),
        ("From 1991 to 1999 (1999 − 1991 + 1 = 9)", True),
        ("No sum here, only 2 and 3.", True),
    ],
)
def test_a_sum_written_out_is_recomputed(claim, holds):
    """A wrong result that the page happens to print elsewhere ("32" of a DES3 key) is still
    a wrong sum."""
    assert equations_hold(claim) is holds
    page = "key size of 168 bits, 24 octets (192 bits); 32 rounds; 2 and 3"
    if "192" in claim:
        assert arithmetic_checked(claim, page) is holds


def test_a_tiles_label_right_above_its_value_names_it_alone():
    """An annual report's tiles: each label above its value, tiles stacked in one column; the
    value is named by its own label, not by the tile above it."""
    tiles = ["BY NET PROFIT", "₹67,845 crore", "EXPORTS", "₹2,54,970 crore"]
    blocks = [TextBlock(t, (600, 100 * i, 900, 100 * i + 60)) for i, t in enumerate(tiles)]
    assert aligned_cells("₹2,54,970 crore", blocks) == [("EXPORTS", "")]
    lines = [b.text for b in blocks]
    cells = table_neighbourhood("₹2,54,970 crore", blocks)
    assert answer_fits_question("What were RIL's exports?", "₹2,54,970 crore", lines, cells=cells)
    assert not answer_fits_question(
        "What was RIL's net profit?", "₹2,54,970 crore", lines, cells=cells
    )


def test_a_contraction_is_its_two_words():
    """A follow-up of the heading "What Didn't Change" asks what "did not change"."""
    assert builds_on(
        "What does the slide say did not change? The risk focus.", "What Didn't Change"
    )
