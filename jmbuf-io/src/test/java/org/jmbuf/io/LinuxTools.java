package org.jmbuf.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs Linux tools for the TAP tests, each bounded by a timeout, and skips a test (printing why) when the
 * machine cannot run it: not root, no {@code /dev/net/tun}, a tool missing.
 */
final class LinuxTools {
    private static final List<String> EXTRA_PATH = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

    private LinuxTools() {
    }

    /** The exit status and everything the command printed (stdout and stderr together). */
    record Result(int exitStatus, String output, String command) {
        @Override
        public String toString() {
            return "$ " + command + "\n(exit " + exitStatus + ")\n" + output;
        }
    }

    /** Skips the calling test, saying why, unless root, /dev/net/tun, {@code ip} and every tool are there. */
    static void assumeCanRun(String... tools) {
        String why = null;
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            why = "not Linux";
        } else if (!isRoot()) {
            why = "not running as root: creating TAP devices and network namespaces needs root (or CAP_NET_ADMIN)";
        } else if (!Files.exists(Path.of(TapDevice.CLONE_DEVICE))) {
            why = TapDevice.CLONE_DEVICE + " is missing (no tun driver)";
        } else if (which("ip") == null) {
            why = "the ip command (iproute2) is not installed";
        } else {
            for (String tool : tools) {
                if (which(tool) == null) {
                    why = tool + " is not installed (" + packageOf(tool) + ")";
                    break;
                }
            }
        }
        if (why != null) {
            System.out.println("SKIPPED: " + why);
            Assumptions.abort(why);
        }
    }

    private static String packageOf(String tool) {
        return switch (tool) {
            case "ping" -> "apt-get install iputils-ping";
            case "nc" -> "apt-get install netcat-openbsd";
            case "tcpdump" -> "apt-get install tcpdump";
            case "tshark" -> "apt-get install tshark";
            case "curl" -> "apt-get install curl";
            default -> "install it";
        };
    }

    static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException | ClassCastException e) {
            return false;
        }
    }

    /** The path of {@code tool} on PATH or in the usual sbin and bin directories, or null. */
    static Path which(String tool) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(EXTRA_PATH);
        for (String dir : dirs) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, tool);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    /** Runs {@code command} with no input, killing it after {@code timeout}. */
    static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
        return runWithInput(timeout, null, command);
    }

    /**
     * Runs {@code command} with {@code input} (null: none) on its standard input, killing it (and failing
     * with its output so far) if it runs longer than {@code timeout}.
     */
    static Result runWithInput(Duration timeout, String input, String... command) throws IOException, InterruptedException {
        String[] resolved = command.clone();
        Path exe = which(resolved[0]);
        if (exe != null) {
            resolved[0] = exe.toString();
        }
        Path out = Files.createTempFile("jmbuf-cmd", ".out");
        Path in = Files.createTempFile("jmbuf-cmd", ".in");
        try {
            Files.writeString(in, input == null ? "" : input);
            Process p = new ProcessBuilder(resolved).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(in.toFile()).start();
            String text = String.join(" ", command);
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + text + "\n"
                        + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), text);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(in);
        }
    }

    /**
     * Runs {@code command} with standard input from {@code stdin} and standard output to {@code stdout}
     * (binary safe), killing it (and failing) if it runs longer than {@code timeout}; the result's output is
     * what it wrote to standard error.
     */
    static Result runWithFiles(Duration timeout, Path stdin, Path stdout, String... command)
            throws IOException, InterruptedException {
        String[] resolved = command.clone();
        Path exe = which(resolved[0]);
        if (exe != null) {
            resolved[0] = exe.toString();
        }
        Path err = Files.createTempFile("jmbuf-cmd", ".err");
        try {
            Process p = new ProcessBuilder(resolved).redirectInput(stdin.toFile()).redirectOutput(stdout.toFile())
                    .redirectError(err.toFile()).start();
            String text = String.join(" ", command);
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + text + "\n"
                        + Files.readString(err, StandardCharsets.UTF_8) + "\n(" + Files.size(stdout)
                        + " bytes of output so far)");
            }
            return new Result(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8), text);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** {@link #run} and fail unless it exits 0. */
    static Result check(Duration timeout, String... command) throws IOException, InterruptedException {
        Result r = run(timeout, command);
        if (r.exitStatus() != 0) {
            throw new AssertionError("command failed: " + r);
        }
        return r;
    }

    /** {@code ip netns exec ns command...}. */
    static String[] in(String ns, String... command) {
        String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = ns;
        System.arraycopy(command, 0, full, 4, command.length);
        return full;
    }
}
