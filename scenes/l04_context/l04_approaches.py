"""L04.6 Current SOTA approaches: a 2 × 2 map, exact vs approximate × compute vs memory. Each cell fills with
its methods, each tagged with the lecture that covers it; as the narration reaches a method it is framed and a
card under the map says what it gives, what it gives up, and its source. Cited facts only (window sizes and
layer ratios from the papers); no performance numbers. The closing note: exact methods change where the work
happens, not its result.

Numbers and words: ``data.approach_map()``; this file holds layout and timing only.

    manim -pql scenes/l04_context/l04_approaches.py CurrentApproaches
"""
from __future__ import annotations

from manim import DOWN, LEFT, UP, Create, FadeIn, FadeOut, VGroup

from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import QuadrantMap, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l04_context import data

MAP_TOP = 2.95          # top of the quadrant map (column labels)
MAP_H = 4.55
CARD_TOP = MAP_TOP - MAP_H - 0.25   # the method card under the map
ROWS, COLS = ("exact", "approximate"), ("compute", "memory")
SHORT = {"attention sinks + window (StreamingLLM)": "StreamingLLM (sinks)",
         "interleaved local/global layers": "local + global layers"}
CELL_COLORS = [[COLORS.K, COLORS.WEIGHT], [COLORS.SCORE, COLORS.Q]]


class CurrentApproaches(LectureScene):
    """L04.6: the empty map, the four cells method by method with their cards, the closing note."""

    def construct(self):
        self.topic("L04.6", "Current SOTA approaches")
        self.map_step()
        self.exact_compute()
        self.exact_memory()
        self.approx_compute()
        self.approx_memory()
        self.note_step()

    # ------------------------------------------------------------------------------------ helpers
    def card(self, m) -> VGroup:
        """What method ``m`` gives, what it gives up, its source: under the map."""
        lines = VGroup(label(f"{SHORT.get(m.name, m.name)}: {m.gives}", color=COLORS.TEXT),
                       label(f"gives up: {m.gives_up}", color=COLORS.V))
        if m.source:
            lines.add(source_lines(m.source, SAFE.width))
        lines.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        fit_within(lines, SAFE.width, None)
        return lines.move_to([SAFE.left + lines.width / 2, CARD_TOP - lines.height / 2, 0])

    def cell_index(self, exactness: str, target: str) -> tuple[int, int]:
        return ROWS.index(exactness), COLS.index(target)

    def method(self, r: int, c: int, k: int, text: str, frac: float = 0.3):
        """One narrated sentence on method k of cell (r, c): frame it, swap the card."""
        m = self.cells[r][c].methods[k]
        frame = self.qm.highlight(r, c, k, color=CELL_COLORS[r][c])
        card = self.card(m)
        out = [FadeOut(x) for x in (self.frame, self.current) if x is not None]
        with self.narrate(text) as tr:
            if out:
                self.play(*out, run_time=0.25 * frac * tr.duration)
            self.play(Create(frame), FadeIn(card, shift=UP * 0.15), run_time=0.75 * frac * tr.duration)
        self.wait_for(tr)
        self.frame, self.current = frame, card

    def open_cell(self, r: int, c: int, text: str):
        """A sentence that names the cell: its border lights, its methods appear."""
        out = [FadeOut(x) for x in (self.frame, self.current) if x is not None]
        self.frame = self.current = None
        with self.narrate(text) as tr:
            self.play(*out, self.qm.boxes[r][c].animate.set_stroke(CELL_COLORS[r][c], 4),
                      run_time=0.2 * tr.duration)
            self.play(self.qm.reveal_cell(r, c), run_time=0.5 * tr.duration)
        self.wait_for(tr)

    # ------------------------------------------------------------------------------------ the empty map
    def map_step(self):
        a = self.a = data.approach_map()
        self.cells = [[None, None], [None, None]]
        for cell in a.cells:
            r, c = self.cell_index(cell.exactness, cell.target)
            self.cells[r][c] = cell
        entries = [[[(SHORT.get(m.name, m.name), m.lecture) for m in self.cells[r][c].methods] for c in range(2)]
                   for r in range(2)]
        qm = self.qm = QuadrantMap(entries, row_labels=ROWS, col_labels=("saves compute", "saves memory"),
                                   width=SAFE.width, height=MAP_H, axis_size=SIZES.LABEL)
        qm.move_to([0, MAP_TOP - MAP_H / 2, 0])
        self.frame = self.current = None
        self.title = heading("Where today's long-context methods sit")
        with self.narrate("Where does the field stand today? Sort the methods by two questions. Is the result "
                          "exact, the same attention the plain formula computes, or an approximation of it?") as tr:
            self.play(FadeIn(self.title), run_time=0.15 * tr.duration)
            self.play(FadeIn(qm.row_labels, shift=LEFT * 0.2), *(FadeIn(b) for row in qm.boxes for b in row),
                      run_time=0.35 * tr.duration)
        with self.narrate("And what does it save: compute, or memory? Each method below carries the lecture "
                          "that covers it.") as tr:
            self.play(FadeIn(qm.col_labels, shift=DOWN * 0.2), run_time=0.3 * tr.duration)
        self.wait_for(tr)

    # ------------------------------------------------------------------------------------ the four cells
    def exact_compute(self):
        self.open_cell(0, 0, "Exact, and aimed at compute.")
        self.method(0, 0, 0, "FlashAttention two and three compute exactly the same attention, without ever "
                             "writing the n by n matrix to slow memory. The result is unchanged, but the "
                             "floating point operations stay quadratic, and the kernels are tied to the hardware. "
                             "That is Lecture 6.")
        self.method(0, 0, 1, "Ring attention splits one sequence across devices and passes key and value blocks "
                             "round a ring. It needs many devices, and communication that hides behind the "
                             "compute.")

    def exact_memory(self):
        self.open_cell(0, 1, "The memory column changes what is cached.")
        self.method(0, 1, 0, "Grouped query attention lets several query heads share one key and value head, so "
                             "the cache shrinks by that factor. It can cost some quality against full multi-head "
                             "attention, and converting a model needs uptraining. Lecture 8.")
        self.method(0, 1, 1, "Multi-head latent attention caches one small shared latent per token instead, "
                             "paying with extra up-projections and a separate path for RoPE. Lecture 9.")

    def approx_compute(self):
        self.open_cell(1, 0, "Now the approximations that save compute.")
        self.method(1, 0, 0, "A sliding window lets each token see only the last W tokens. Beyond the window "
                             "there is no direct path; reach grows only with depth.")
        self.method(1, 0, 1, "Interleaving local and global layers, as Gemma 2 and Gemma 3 do, keeps a few layers "
                             "that see everything. The local layers cannot retrieve far, and the global ones still "
                             "pay the full cost. Both are Lecture 7.")
        self.method(1, 0, 2, "Linear attention and state space hybrids, such as Jamba, Griffin and Mamba 2, keep a "
                             "fixed-size state instead of a growing cache. A bounded state cannot store every "
                             "token, so exact recall degrades. Lecture 10.")

    def approx_memory(self):
        self.open_cell(1, 1, "Last, approximate savings in memory.")
        self.method(1, 1, 0, "Quantising the key value cache stores fewer bits per number, at the price of "
                             "rounding error in every key and value.")
        self.method(1, 1, 1, "StreamingLLM keeps the first few tokens, the attention sinks, plus a recent window. "
                             "Memory is constant, but the tokens in between are gone.")

    # ------------------------------------------------------------------------------------ the note
    def note_step(self):
        out = [FadeOut(x) for x in (self.frame, self.current) if x is not None]
        text, _, cite = self.a.note.partition(" (")
        note = VGroup(*(label(ln.original_text, color=COLORS.TEXT) for ln in source_lines(text, SAFE.width)))
        note.add(source_lines(cite.rstrip(")"), SAFE.width))
        note.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        fit_within(note, SAFE.width, None)
        note.move_to([SAFE.left + note.width / 2, CARD_TOP - note.height / 2, 0])
        self.play(*out, run_time=0.5)
        glow = VGroup(*(self.qm.focus(0, c, color=COLORS.ACCENT) for c in range(2)))
        with self.narrate("Hold on to one distinction. The exact methods change where the work happens, not its "
                          "result. FlashAttention removes the quadratic memory, not the quadratic compute; "
                          "everything in the bottom row trades some of the result for length.") as tr:
            self.play(FadeIn(note, shift=UP * 0.15), Create(glow), run_time=0.3 * tr.duration)
        self.wait_for(tr)
