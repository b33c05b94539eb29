package plugin.script.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.junit.jupiter.api.Test;

class ScriptHeaderTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "# arg: unit                       | unit        | 1 | 1",
        "# arg: [lines]                    | [lines]     | 0 | 1",
        "# arg: files...                   | files...    | 1 | -1",
        "# ARG:   [rest...]   everything   | [rest...]   | 0 | -1",
    })
    void argumentForms(String line, String usage, int min, int max) {
        ScriptHeader h = ScriptHeader.parse("#!/bin/sh\n" + line + "\n");
        assertThat(h.usage()).isEqualTo(usage);
        assertThat(h.minArgs()).isEqualTo(min);
        assertThat(h.maxArgs()).isEqualTo(max);
    }

    @Test
    void onlyTheTopCommentBlockCounts() {
        ScriptHeader h = ScriptHeader.parse("# description: no shebang is fine\n\n# arg: after-a-blank-line\n");
        assertThat(h.description()).isEqualTo("no shebang is fine");
        assertThat(h.args()).isEmpty();
    }

    @Test
    void malformedArgumentsAreIgnored() {
        ScriptHeader h = ScriptHeader.parse("#!/bin/sh\n# arg: [unclosed\n# arg: two words-are-a-description\n# arg:\n");
        assertThat(h.args()).extracting(ScriptHeader.Arg::name).isEqualTo(List.of("two"));
        assertThat(h.args().get(0).description()).isEqualTo("words-are-a-description");
    }

    @Test
    void noHeaderDeclaresNothing() {
        ScriptHeader h = ScriptHeader.parse("#!/bin/sh\necho hi\n");
        assertThat(h.description()).isNull();
        assertThat(h.args()).isEmpty();
        assertThat(h.maxArgs()).isZero();
    }
}
