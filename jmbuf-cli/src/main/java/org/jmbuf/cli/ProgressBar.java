package org.jmbuf.cli;

import java.io.PrintStream;
import java.nio.file.Path;

/** A one-line progress bar for long replays, redrawn in place on the error stream at most ten times a second. */
final class ProgressBar {
    private static final int WIDTH = 40;

    private final PrintStream out;
    private final String label;
    private final long total;
    private final long started = System.nanoTime();
    private long lastDraw;

    ProgressBar(PrintStream out, Path file, long total) {
        this.out = out;
        this.label = file.getFileName().toString();
        this.total = Math.max(1, total);
    }

    void update(long done) {
        long now = System.nanoTime();
        if (now - lastDraw < 100_000_000L && done < total) {
            return;
        }
        lastDraw = now;
        int filled = (int) (WIDTH * Math.min(done, total) / total);
        double seconds = (now - started) / 1e9;
        double megabytesPerSecond = seconds > 0 ? done / 1e6 / seconds : 0;
        out.printf("\r%s [%s%s] %3d%%  %.0f MB/s", label, "#".repeat(filled), ".".repeat(WIDTH - filled),
                100 * Math.min(done, total) / total, megabytesPerSecond);
        out.flush();
    }

    void finish() {
        update(total);
        out.println();
    }
}
