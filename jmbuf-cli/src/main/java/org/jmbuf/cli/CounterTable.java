package org.jmbuf.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jmbuf.net.Counter;
import org.jmbuf.net.Counters;

/** The stack's counters as one table (group, counter, value), non-zero counters only: jmbuf's stats format. */
final class CounterTable {
    private CounterTable() {
    }

    /** Prints the non-zero counters of {@code groups}, each row prefixed with {@code owner} if it is not null. */
    static void print(PrintStream out, String owner, List<Counters<?>> groups) {
        List<String[]> rows = new ArrayList<>();
        addRows(rows, owner, groups);
        print(out, owner != null, rows);
    }

    static void addRows(List<String[]> rows, String owner, List<Counters<?>> groups) {
        for (Counters<?> group : groups) {
            for (Map.Entry<? extends Enum<?>, Long> e : group.snapshot().entrySet()) {
                if (e.getValue() != 0) {
                    String what = ((Counter) e.getKey()).description();
                    rows.add(owner == null ? new String[] {group.title(), what, Long.toString(e.getValue())}
                            : new String[] {owner, group.title(), what, Long.toString(e.getValue())});
                }
            }
        }
    }

    static void print(PrintStream out, boolean withOwner, List<String[]> rows) {
        String[] header = withOwner ? new String[] {"host", "group", "counter", "value"}
                : new String[] {"group", "counter", "value"};
        Table.print(out, header, rows);
    }
}
