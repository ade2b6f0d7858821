package emails

import (
	"strings"
	"testing"
)

func TestTemplateSubstitutesAndEscapes(t *testing.T) {
	tpl := MustParse(`<p title="{{who}}">{{who}} & {{n}}</p>{{rows}}`)
	v := Vars{"who": `"><script>alert('x')</script>&amp;`, "n": "1 < 2", "rows": "<tr>"}
	got, err := tpl.HTML(v, map[string]Safe{"rows": "<tr><td>ok</td></tr>"})
	if err != nil {
		t.Fatal(err)
	}
	want := `<p title="&#34;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;">&#34;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp; & 1 &lt; 2</p><tr><td>ok</td></tr>`
	if got != want {
		t.Fatalf("HTML\n got %s\nwant %s", got, want)
	}
	text, err := tpl.Text(v)
	if err != nil || text != `<p title=""><script>alert('x')</script>&amp;">"><script>alert('x')</script>&amp; & 1 < 2</p><tr>` {
		t.Fatalf("Text: %q %v", text, err)
	}
	if names := tpl.Names(); strings.Join(names, ",") != "who,who,n,rows" {
		t.Fatalf("names %v", names)
	}
}

func TestTemplateRefusesMissingValuesAndBadSyntax(t *testing.T) {
	if _, err := MustParse("Hello {{name}}").Text(Vars{"other": "x"}); err == nil {
		t.Fatal("rendered with a missing value")
	}
	if got, err := MustParse("no placeholders").HTML(nil, nil); err != nil || got != "no placeholders" {
		t.Fatalf("%q %v", got, err)
	}
	if got, err := MustParse("{{a}}{{b}}").Text(Vars{"a": "{{b}}", "b": "x"}); err != nil || got != "{{b}}x" {
		t.Fatalf("a value was substituted again: %q %v", got, err)
	}
	for _, bad := range []string{"{{", "a {{name", "{{}}", "{{ name }}", "{{a-b}}", "}}", "x }} {{a}}", "{{a}} }}", "{{{a}}}"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}
