package org.jmbuf.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jmbuf.io.CaptureReplay;

/** The little JSON jmbuf prints for machines: replay reports as an array of objects. */
final class Json {
    private Json() {
    }

    static String reports(List<CaptureReplay.Report> reports, Path sample) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < reports.size(); i++) {
            CaptureReplay.Report r = reports.get(i);
            out.append(i == 0 ? "\n  {" : ",\n  {");
            String file = sample != null && r.file().equals(sample) ? "(embedded sample)" : r.file().toString();
            field(out, "file", string(file)).append(", ");
            field(out, "packets", Long.toString(r.packets())).append(", ");
            field(out, "bytes", Long.toString(r.bytes())).append(", ");
            field(out, "ipv4", Long.toString(r.ipv4())).append(", ");
            field(out, "ipv6", Long.toString(r.ipv6())).append(", ");
            field(out, "skipped", Long.toString(r.skipped())).append(", ");
            field(out, "sent", Long.toString(r.sent())).append(", ");
            field(out, "formatError", r.formatError() == null ? "null" : string(r.formatError())).append(", ");
            out.append("\"failures\": [");
            for (int j = 0; j < r.failures().size(); j++) {
                out.append(j == 0 ? "" : ", ").append(string(r.failures().get(j)));
            }
            out.append("], \"counters\": {");
            int g = 0;
            for (Map.Entry<String, Map<String, Long>> group : r.counters().entrySet()) {
                out.append(g++ == 0 ? "" : ", ").append(string(group.getKey())).append(": {");
                int c = 0;
                for (Map.Entry<String, Long> counter : group.getValue().entrySet()) {
                    out.append(c++ == 0 ? "" : ", ").append(string(counter.getKey())).append(": ")
                            .append(counter.getValue());
                }
                out.append('}');
            }
            out.append("}}");
        }
        return out.append(reports.isEmpty() ? "]" : "\n]").toString();
    }

    private static StringBuilder field(StringBuilder out, String name, String value) {
        return out.append(string(name)).append(": ").append(value);
    }

    /** A JSON string literal (RFC 8259 §7). */
    static String string(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
