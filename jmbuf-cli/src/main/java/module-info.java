module org.jmbuf.cli {
    requires org.jmbuf.buf;
    requires info.picocli;
    opens org.jmbuf.cli to info.picocli;
}
