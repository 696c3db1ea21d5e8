package org.jmbuf.cli;

import java.io.PrintStream;
import java.util.List;

/** Prints rows as a plain text table: text left-aligned, numbers right-aligned, a rule under the header. */
final class Table {
    private Table() {
    }

    static void print(PrintStream out, String[] header, List<String[]> rows) {
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = header[i].length();
            for (String[] row : rows) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        line(out, header, width, rows.isEmpty() ? null : rows.getFirst());
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < width.length; i++) {
            rule.append(i == 0 ? "" : "  ").append("-".repeat(width[i]));
        }
        out.println(rule);
        for (String[] row : rows) {
            line(out, row, width, row);
        }
    }

    private static void line(PrintStream out, String[] cells, int[] width, String[] sample) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            boolean numeric = sample != null && !sample[i].isEmpty() && sample[i].chars().allMatch(Character::isDigit);
            String cell = cells[i];
            String pad = " ".repeat(width[i] - cell.length());
            b.append(i == 0 ? "" : "  ").append(numeric ? pad + cell : cell + (i + 1 < cells.length ? pad : ""));
        }
        out.println(b);
    }
}
