package org.jmbuf.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code jmbuf} program. Each job is a subcommand; run without one it prints its help.
 */
@Command(name = "jmbuf",
        mixinStandardHelpOptions = true,
        version = "jmbuf 0.1.0",
        description = {"BSD mbuf packet buffers with the new mbuf API, and a userland IPv4/IPv6 stack on them.",
            "Without a command, jmbuf runs its embedded network scenario (jmbuf demo)."},
        subcommands = {DemoCommand.class, ReplayCommand.class, TapCommand.class, MbufDemoCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        return new CommandLine(new DemoCommand()).execute();
    }

    /**
     * Runs the program and exits with its status: 0 on success, 1 when the work found a problem, 2 for a
     * usage error. Launched through Maven ({@code -Djmbuf.launcher=maven}, set by jmbuf-cli's pom), the
     * arguments arrive as the one string of {@code -Djmbuf.args}, which is split at spaces here.
     */
    public static void main(String[] args) {
        if ("maven".equals(System.getProperty("jmbuf.launcher")) && args.length == 1) {
            args = args[0].isBlank() ? new String[0] : args[0].trim().split("\\s+");
        }
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
