"""L04.5 Path from 2K to 100K+ tokens: a log-scale context axis (to scale, unlike a plain timeline) with the
published context lengths from BERT's 512 to the 128K of YaRN, Llama 3.1 and Gemma 3, each marker coloured by
the lecture that explains its enabling technique, revealed one at a time with a card (what the number is, the
technique, the lecture, the source). Gemini 1.5's 1M is marked [verify] in the plan: it is drawn dashed and
labelled unverified, and its 10M research figure is left out. Then the techniques behind the path, each with
its lecture.

Numbers: ``data.timeline()`` (every marker with its source); this file holds layout and timing only.

    manim -pql scenes/l04_context/l04_timeline.py ContextTimeline
"""
from __future__ import annotations

from manim import DOWN, LEFT, UP, Create, FadeIn, FadeOut, LaggedStart, VGroup

from scenes.kit.format import spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import DataTable, LogTimeline, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.mobjects.log_axis import compact
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l04_context import data

AXIS_Y = -1.15          # the context axis
CARD_TOP = -1.95        # top of the marker card under the axis
AXIS_W = SAFE.width - 0.6
LECTURE_COLORS = {"L03": COLORS.K, "L07": COLORS.WEIGHT, "": COLORS.MUTED}
SHORT = {"Position Interpolation": "PI", "Code Llama (use)": "Code Llama, used"}   # names that fit a column


def lecture_words(lec: str) -> str:
    """'L03' -> 'Lecture 3'; 'L05, L08, L09' -> 'Lectures 5, 8 and 9'."""
    nums = [str(int(p.strip()[1:])) for p in lec.split(",")]
    return f"Lecture {nums[0]}" if len(nums) == 1 else f"Lectures {', '.join(nums[:-1])} and {nums[-1]}"


class ContextTimeline(LectureScene):
    """L04.5: the log axis, the markers era by era with their cards, the unverified Gemini marker, the techniques."""

    def construct(self):
        self.topic("L04.5", "Path from 2K to 100K+ tokens")
        self.axis_step()
        self.learned_step()
        self.rope_step()
        self.window_step()
        self.cluster_step()
        self.techniques_step()

    # ------------------------------------------------------------------------------------ helpers
    def marker(self, name: str) -> int:
        return next(i for i, m in enumerate(self.t.markers) if m.name == name)

    def card(self, i: int) -> VGroup:
        """What marker ``i``'s number is, its technique and lecture, its source: under the axis."""
        m = self.t.markers[i]
        if m.verify:
            what = f"{m.name}: {compact(m.context)} reported; marked unverified here, so drawn dashed"
            how = "enabling technique: not published"
        else:
            what = f"{m.name}: {m.note}"
            lec = f" · explained in {lecture_words(m.lecture)}" if m.lecture else ""
            how = f"enabled by {m.technique}{lec}"
        lines = VGroup(label(what, color=COLORS.TEXT), label(how, color=LECTURE_COLORS[m.lecture]))
        lines.add(source_lines(m.source, SAFE.width))
        lines.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        fit_within(lines, SAFE.width, None)
        return lines.move_to([SAFE.left + lines.width / 2, CARD_TOP - lines.height / 2, 0])

    def show(self, names, text: str, *, frac: float = 0.5):
        """One narrated sentence: reveal the named markers (and the last one's card), paced to the words."""
        idx = [self.marker(n) for n in names]
        card = self.card(idx[-1])
        with self.narrate(text) as tr:
            anims = [self.tl.reveal(i) for i in idx]
            out = [FadeOut(self.current)] if self.current is not None else []
            self.play(*out, LaggedStart(*anims, lag_ratio=0.6), FadeIn(card, shift=UP * 0.15),
                      run_time=frac * tr.duration)
        self.wait_for(tr)
        self.current = card

    # ------------------------------------------------------------------------------------ the axis
    def axis_step(self):
        t = self.t = data.timeline()
        marks = [(m.context, SHORT.get(m.name, m.name),
                  compact(m.context) + (", unverified" if m.verify else "")) for m in t.markers]
        colors = [LECTURE_COLORS[m.lecture] for m in t.markers]
        tl = self.tl = LogTimeline(marks, lo=t.axis_min, hi=t.axis_max, width=AXIS_W, colors=colors,
                                   dashed=[i for i, m in enumerate(t.markers) if m.verify])
        tl.shift(UP * (AXIS_Y - tl.axis.get_y()))
        self.current = None
        self.title = heading("Context length, drawn to scale")
        with self.narrate("Here is the path from a few hundred tokens to a hundred thousand and beyond, drawn "
                          "to scale. The axis is logarithmic: each tick is ten times the one before, so equal "
                          "steps to the right are equal multiplications of the context.") as tr:
            self.play(FadeIn(self.title), run_time=0.15 * tr.duration)
            self.play(Create(tl.axis), FadeIn(tl.ticks), run_time=0.3 * tr.duration)
            self.play(LaggedStart(*(FadeIn(lb, shift=UP * 0.1) for lb in tl.tick_labels), lag_ratio=0.3),
                      run_time=0.3 * tr.duration)
        self.wait_for(tr)

    # ------------------------------------------------------------------------------------ learned positions
    def learned_step(self):
        by = {m.name: m for m in self.t.markers}
        bert, gpt2, gpt3 = by["BERT"], by["GPT-2"], by["GPT-3"]
        self.show(["BERT"], f"In {spoken(bert.year, 0)}, BERT read at most {compact(bert.context)} tokens, with "
                            "one learned position vector for each slot.")
        self.show(["GPT-2"], f"GPT-2 doubled that to {compact(gpt2.context)}, still with a learned table: a model "
                             "has nothing to say about a position it has no vector for. Lecture 3 covers why.")
        self.show(["GPT-3"], f"GPT-3 reached {compact(gpt3.context)} tokens, alternating dense layers with "
                             "locally banded sparse ones: the local attention of Lecture 7. The colour of a "
                             "marker is its lecture.")

    # ------------------------------------------------------------------------------------ RoPE and its scaling
    def rope_step(self):
        by = {m.name: m for m in self.t.markers}
        llama, pi, code, use = by["Llama 2"], by["Position Interpolation"], by["Code Llama"], by["Code Llama (use)"]
        self.show(["Llama 2"], f"Llama 2 trained at {compact(llama.context)} with rotary embeddings and ordinary "
                               "dense attention.")
        self.show(["Position Interpolation"], f"Position interpolation then stretched a LLaMA model to "
                                              f"{compact(pi.context)}: squeeze the new positions into the trained "
                                              "range, and fine-tune briefly.")
        self.show(["Code Llama", "Code Llama (use)"],
                  f"Code Llama trained on {compact(code.context)} sequences with a much larger RoPE base, and was "
                  f"used on inputs up to {compact(use.context)}. All three are rotary embeddings and their "
                  "scaling, the subject of Lecture 3.")

    # ------------------------------------------------------------------------------------ a sliding window
    def window_step(self):
        m = next(m for m in self.t.markers if m.name == "Mistral 7B")
        self.show(["Mistral 7B"], f"Mistral 7B, at {compact(m.context)}, took another road: a sliding window. "
                                  "Each layer looks back only a fixed distance, so the key value cache stops "
                                  "growing, and depth carries information further. That is Lecture 7.")

    # ------------------------------------------------------------------------------------ 128K and beyond
    def cluster_step(self):
        by = {m.name: m for m in self.t.markers}
        yarn = by["YaRN"]
        self.show(["YaRN"], f"Then three routes met at {compact(yarn.context)}. YaRN rescales RoPE's "
                            "frequencies, and extends Llama 2 with little fine-tuning.", frac=0.4)
        self.show(["Llama 3.1"], "Llama 3.1 adds continued pre-training on long documents.")
        self.show(["Gemma 3"], "Gemma 3 interleaves many local layers with a few global ones, so most layers "
                               "keep only a short cache.")
        gem = by["Gemini 1.5"]
        g = self.marker("Gemini 1.5")
        box = self.tl.highlight(g, color=COLORS.MUTED)
        self.allow_overlap(box, self.tl.labels[g], reason="a frame around the unverified marker's label")
        self.show(["Gemini 1.5"], f"Further right, Gemini 1.5 reports {compact(gem.context)} tokens. Its report does "
                                  "not publish how, and we have not verified the figure for this course, so it "
                                  "stays dashed, and marked unverified.", frac=0.4)
        self.play(Create(box), run_time=0.6)
        self.play(FadeOut(VGroup(self.tl, self.current, box, self.title)), run_time=0.6)
        self.current = None

    # ------------------------------------------------------------------------------------ the techniques
    def techniques_step(self):
        t = self.t
        rows = []
        for tech, lec, src in t.techniques:
            parts = src.split(" · ")
            if lec:
                rows.append([tech, lec])
            elif "2402.10171" in src:          # the plan marks this id [verify]: the paper, no id shown
                rows.append([tech, f"not here: {parts[0]} (id unverified)"])
            else:
                rows.append([tech, f"not here: {parts[0]} · {parts[-1]}"])
        table = DataTable(["technique", "lecture"], rows, align="ll", font_size=SIZES.BODY,
                          header_size=SIZES.LABEL, row_height=0.66)
        fit_within(table, SAFE.width, 5.6)
        table.move_to([0, -0.3, 0])
        title = heading("What moved the line")
        lectured = [(tech, lec) for tech, lec, _ in t.techniques if lec]
        words = ", ".join(f"{tech.split(' (')[0]} in {lecture_words(lec)}" for tech, lec in lectured[:-1])
        with self.narrate(f"The techniques behind this path are the rest of this course: {words}, and "
                          f"{lectured[-1][0].split(' (')[0]} in {lecture_words(lectured[-1][1])}.") as tr:
            self.play(FadeIn(title), FadeIn(table.header), Create(table.rule), run_time=0.15 * tr.duration)
            self.play(LaggedStart(*(FadeIn(table.rows[i], shift=UP * 0.1) for i in range(len(lectured))),
                      lag_ratio=0.7), run_time=0.75 * tr.duration)
        self.wait_for(tr)
        rest = [i for i, (_, lec, _) in enumerate(t.techniques) if not lec]
        with self.narrate("Two more sit outside our lectures: continued pre-training on long data, and ring "
                          "attention, which splits one sequence across many devices. Each long context you meet "
                          "is a mix of these, and the next lectures take them one at a time.") as tr:
            self.play(LaggedStart(*(FadeIn(table.rows[i], shift=UP * 0.1) for i in rest), lag_ratio=0.5),
                      run_time=0.4 * tr.duration)
        self.wait_for(tr)
