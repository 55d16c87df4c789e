"""Reading trainee files: line numbers, blank lines, line endings, control characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from avis.catalog.imports.formats import GENERIC_COLUMNS, PE_COLUMNS
from avis.catalog.imports.reader import open_trainee_file
from tests.catalog.fixtures import generic_row, pe_row


def pe_text(rows: list[dict[str, str]], newline: str = "\n") -> str:
    lines = ["|".join(PE_COLUMNS)] + ["|".join(r[c] for c in PE_COLUMNS) for r in rows]
    return newline.join(lines)


def read_all(path: Path, size: int = 2, format_name: str | None = None):
    trainee_file = open_trainee_file(path, format_name)
    lines, emails, malformed = [], [], []
    for chunk in trainee_file.chunks(size):
        lines += chunk.lines
        column = "c_adresseemail" if "c_adresseemail" in chunk.frame else "email"
        emails += chunk.frame[column].tolist()
        malformed += [(line, reason) for line, _cells, reason in chunk.malformed]
    return lines, emails, malformed


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_pe_lines_are_numbered_as_in_the_file(tmp_path, newline, final_newline):
    text = pe_text([pe_row(1), pe_row(2), pe_row(3), pe_row(4)], newline)
    text = text.replace(newline + "|".join(pe_row(2).values()),
                        newline + newline + "|".join(pe_row(2).values()))  # a blank line 3
    text = text.replace("|".join(pe_row(4).values()), "Dupont|Jean")  # too few cells
    if final_newline:
        text += newline
    path = tmp_path / "export.txt"
    path.write_bytes(text.encode("utf-8"))

    lines, emails, malformed = read_all(path)

    assert lines == [2, 4, 5]
    assert emails == [f"lea.martin{n}@example.org" for n in (1, 2, 3)]
    assert malformed == [(6, "nombre de colonnes incorrect : 2 au lieu de 38")]


def test_pe_control_characters_become_spaces(tmp_path):
    path = tmp_path / "export.txt"
    row = pe_row(1, c_nomcorrespondance="Mar\x1ftin\x00", dc_lblformation="Aide\x0bà domicile")
    path.write_bytes(pe_text([row]).encode("cp1252"))

    (chunk,) = open_trainee_file(path).chunks(10)

    assert chunk.frame["c_nomcorrespondance"].tolist() == ["Mar tin "]
    assert chunk.frame["dc_lblformation"].tolist() == ["Aide à domicile"]


def test_pe_file_with_bom(tmp_path):
    path = tmp_path / "export.txt"
    path.write_bytes(b"\xef\xbb\xbf" + pe_text([pe_row(1)]).encode("utf-8"))

    trainee_file = open_trainee_file(path)

    assert trainee_file.header[0] == "c_nomcorrespondance"
    assert read_all(path)[1] == ["lea.martin1@example.org"]


def test_csv_quoted_cells_with_line_breaks_keep_line_numbers(tmp_path):
    path = tmp_path / "stagiaires.csv"
    header = ";".join(GENERIC_COLUMNS)
    values = generic_row(1, formation_intitule="Aide\nà domicile").values()
    first = ";".join(f'"{v}"' for v in values)
    second = ";".join(generic_row(2).values())
    path.write_text(f"{header}\n{first}\n{second}\n", encoding="utf-8")

    trainee_file = open_trainee_file(path)
    (chunk,) = trainee_file.chunks(10)

    assert chunk.lines == [2, 4]
    assert chunk.frame["formation_intitule"].tolist() == ["Aide à domicile", "Commis de cuisine"]


def test_chunks_hold_at_most_size_rows(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(pe_text([pe_row(n) for n in range(7)]) + "\n", encoding="utf-8")

    sizes = [len(chunk) for chunk in open_trainee_file(path).chunks(3)]

    assert sizes == [3, 3, 1]
