package helmsdk

import (
	"strings"
	"unicode/utf8"
)

// fastManifestObject reads one document of a rendered manifest without a YAML parser, for the documents
// Helm's templates usually render: block mappings and sequences, plain or simply quoted scalars,
// comments, block scalars ("|", ">") and the empty flow collections "{}" and "[]". It keeps only what
// decodeManifestObject keeps (apiVersion, kind, metadata.name and .namespace, and the name and image of
// the containers of a workload's pod template).
//
// It gives up (ok false) on anything else (anchors, tags, other flow collections, multi-line or escaped
// scalars, tabs, quoted or unusual keys, a key repeated where it reads), and the caller then decodes the
// document with go.yaml.in/yaml/v2; when it does not give up, its answer is the one yaml/v2 gives (a
// differential fuzz test holds it to that). The full decoder spends most of its time tokenizing what is
// thrown away: every field of every object in the release.
func fastManifestObject(doc string) (mo ManifestObject, isObject, ok bool) {
	if !printable(doc) {
		return ManifestObject{}, false, false
	}
	p := fastParser{doc: doc}
	p.next()
	if p.eof {
		return ManifestObject{}, false, !p.bail // comments only: not an object
	}
	if p.indent != 0 || p.seqItem() {
		return ManifestObject{}, false, false
	}
	p.mapping(0, pathRoot)
	if p.bail {
		return ManifestObject{}, false, false
	}
	if !p.eof {
		return ManifestObject{}, false, false
	}
	if p.kind == "" {
		return ManifestObject{}, false, true
	}
	mo = ManifestObject{APIVersion: p.apiVersion, Kind: p.kind, Name: p.name, Namespace: p.namespace}
	pod := &p.pod
	for _, c := range pod.init {
		mo.Containers = append(mo.Containers, Container{Name: c.Name, Image: c.Image, Init: true})
	}
	for _, c := range pod.containers {
		mo.Containers = append(mo.Containers, Container{Name: c.Name, Image: c.Image})
	}
	return mo, true, true
}

// The paths the reader keeps (a mapping's path decides what its keys mean).
type fastPath int

const (
	pathOther          fastPath = iota // not read
	pathRoot                           // the document
	pathMetadata                       // metadata
	pathSpec                           // spec
	pathTemplate                       // spec.template
	pathPodSpec                        // spec.template.spec
	pathContainers                     // spec.template.spec.containers (a sequence)
	pathInitContainers                 // spec.template.spec.initContainers
	pathContainer                      // an item of one of those (fastParser.container)
)

func isContainerList(p fastPath) bool {
	return p == pathContainers || p == pathInitContainers
}

type fastPod struct {
	containers, init []manifestContainer
}

type fastParser struct {
	doc string
	pos int
	// the current line, without its indentation and line end
	line   string
	indent int
	eof    bool
	bail   bool

	apiVersion, kind, name, namespace string
	pod                               fastPod
	// container is the container whose mapping is being read
	container *manifestContainer
}

// rawLine reads the line at p.pos, without its line end; it gives up (ok false, bail set) on a tab, a "\r"
// inside the line or a byte order mark.
func (p *fastParser) rawLine() (l string, ok bool) {
	end := strings.IndexByte(p.doc[p.pos:], '\n')
	if end < 0 {
		l, p.pos = p.doc[p.pos:], len(p.doc)
	} else {
		l, p.pos = p.doc[p.pos:p.pos+end], p.pos+end+1
	}
	l = strings.TrimSuffix(l, "\r")
	if strings.ContainsAny(l, "\t\r\ufeff") {
		p.bail, p.eof = true, true
		return "", false
	}
	return l, true
}

// next moves to the next line that is not blank or a comment.
func (p *fastParser) next() {
	for p.pos < len(p.doc) {
		l, ok := p.rawLine()
		if !ok {
			return
		}
		t := strings.TrimLeft(l, " ")
		if t == "" || t[0] == '#' {
			continue
		}
		if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...") || t[0] == '%' {
			p.bail, p.eof = true, true
			return
		}
		p.line, p.indent = t, len(l)-len(t)
		return
	}
	p.eof, p.line = true, ""
}

// skipBlockScalar skips the content of a block scalar whose header ends the current line, in a node at
// column indent: the lines indented at least as much as its first line, and the blank lines among them. It
// gives up where yaml/v2 would see an error or a subtlety: a line indented less than the content but more
// than the node, leading blank lines that are not empty.
func (p *fastParser) skipBlockScalar(indent int) {
	content := -1 // the content's indentation, once its first line is seen
	for p.pos < len(p.doc) {
		start := p.pos
		l, ok := p.rawLine()
		if !ok {
			return
		}
		t := strings.TrimLeft(l, " ")
		ind := len(l) - len(t)
		switch {
		case t == "" && content < 0 && l != "":
			p.bail, p.eof = true, true // a leading blank line with spaces: it can set the indentation
			return
		case t == "":
			continue
		case ind <= indent:
			p.pos = start // the block ended: this line is the next node's
			p.next()
			return
		case content < 0:
			content = ind
		case ind < content:
			p.bail, p.eof = true, true
			return
		}
	}
	p.eof, p.line = true, ""
}

// seqItem reports whether the current line is an item of a block sequence.
func (p *fastParser) seqItem() bool {
	return p.line == "-" || strings.HasPrefix(p.line, "- ")
}

// mapping reads a block mapping whose keys are at column indent; the current line is its first key.
func (p *fastParser) mapping(indent int, path fastPath) {
	var seen map[string]bool
	if path != pathOther {
		seen = map[string]bool{}
	}
	for !p.eof && !p.bail {
		if p.indent < indent {
			return
		}
		if p.indent > indent || p.seqItem() {
			p.bail = true // a continuation line, or a sequence where a key belongs
			return
		}
		key, rest, ok := splitKey(p.line)
		if !ok {
			p.bail = true
			return
		}
		if seen != nil {
			if seen[key] {
				p.bail = true
				return
			}
			seen[key] = true
		}
		p.value(indent, false, childPath(path, key), rest, p.setter(path, key))
	}
}

// value reads the value of a mapping key or sequence item (inSeq) at column indent, whose text after the
// indicator is rest; the current line is the key's. path is the value's, set is non-nil for a scalar the
// reader keeps.
func (p *fastParser) value(indent int, inSeq bool, path fastPath, rest string, set func(string)) {
	switch {
	case rest == "":
		p.next()
		switch {
		case p.bail:
		case p.eof || p.indent < indent || (p.indent == indent && (inSeq || !p.seqItem())):
			if set != nil {
				p.bail = true // null: yaml/v2 leaves the string empty; not guessed here
			}
		case set != nil:
			p.bail = true // a collection where a string goes
		case p.line == "{}" || p.line[0] == '[':
			// "key:" then "{}" or "[...]" on the next line (toYaml of an empty map, under nindent)
			if path != pathOther || (p.line != "{}" && !flowSequence(p.line)) {
				p.bail = true
				return
			}
			p.next()
		case p.seqItem():
			p.sequence(p.indent, path) // at the key's own column ("key:" then "- item"), or deeper
		case isContainerList(path):
			p.bail = true // a mapping where a string or a sequence goes
		default:
			p.mapping(p.indent, path)
		}
	case rest[0] == '|' || rest[0] == '>':
		if set != nil || path != pathOther || !blockHeader(rest) {
			p.bail = true
			return
		}
		p.skipBlockScalar(indent)
	case rest == "{}" || rest[0] == '[':
		if set != nil || path != pathOther || (rest != "{}" && !flowSequence(rest)) {
			p.bail = true // also a collection where a string or a struct goes
			return
		}
		p.next()
	default:
		v, ok := scalar(rest)
		if ok && set != nil && isNull(v) {
			ok = false // yaml/v2 leaves a kept string empty for a null; not guessed here
		}
		if !ok || path != pathOther {
			p.bail = true // also a scalar where a struct or a sequence goes (an error for yaml/v2)
			return
		}
		if set != nil {
			set(v)
		}
		p.next()
	}
}

// sequence reads a block sequence whose "-" are at column indent.
func (p *fastParser) sequence(indent int, path fastPath) {
	var list *[]manifestContainer
	if isContainerList(path) {
		list = p.containerList(path)
	} else if path != pathOther {
		p.bail = true // a sequence where a struct or a string goes
		return
	}
	for !p.eof && !p.bail {
		if p.indent < indent || (p.indent == indent && !p.seqItem()) {
			return // the end, or the parent mapping's next key (items at the key's column)
		}
		if p.indent > indent {
			p.bail = true
			return
		}
		rest := strings.TrimLeft(p.line[1:], " ")
		col := p.indent + len(p.line) - len(rest)
		switch {
		case rest == "" || rest == "-" || strings.HasPrefix(rest, "- "):
			if list != nil || rest != "" {
				p.bail = true // a container on the lines below its "-", or a sequence in a sequence
				return
			}
			p.value(indent, true, pathOther, "", nil)
		case isKeyLine(rest):
			// "- key: value": a mapping whose keys are at the column of this first key.
			p.line, p.indent = rest, col
			if list != nil {
				*list = append(*list, manifestContainer{})
				p.container = &(*list)[len(*list)-1]
				p.mapping(col, pathContainer)
			} else {
				p.mapping(col, pathOther)
			}
		default:
			if list != nil {
				p.bail = true // a scalar where a container goes
				return
			}
			p.value(indent, true, pathOther, rest, nil)
		}
	}
}

func (p *fastParser) containerList(path fastPath) *[]manifestContainer {
	switch path {
	case pathInitContainers:
		return &p.pod.init
	}
	return &p.pod.containers
}

// setter returns where a scalar of key in a mapping at path is kept (nil: not kept).
func (p *fastParser) setter(path fastPath, key string) func(string) {
	switch {
	case path == pathRoot && key == "apiVersion":
		return func(v string) { p.apiVersion = v }
	case path == pathRoot && key == "kind":
		return func(v string) { p.kind = v }
	case path == pathMetadata && key == "name":
		return func(v string) { p.name = v }
	case path == pathMetadata && key == "namespace":
		return func(v string) { p.namespace = v }
	case path == pathContainer && key == "name":
		return func(v string) { p.container.Name = v }
	case path == pathContainer && key == "image":
		return func(v string) { p.container.Image = v }
	}
	return nil
}

// childPath is the path of key's value in a mapping at path (pathOther: not read).
func childPath(path fastPath, key string) fastPath {
	switch path {
	case pathRoot:
		switch key {
		case "metadata":
			return pathMetadata
		case "spec":
			return pathSpec
		}
	case pathSpec:
		if key == "template" {
			return pathTemplate
		}
	case pathTemplate:
		if key == "spec" {
			return pathPodSpec
		}
	case pathPodSpec:
		switch key {
		case "containers":
			return pathContainers
		case "initContainers":
			return pathInitContainers
		}
	}
	return pathOther
}

// isKeyLine reports whether s starts a mapping entry ("key:" or "key: value").
func isKeyLine(s string) bool {
	_, _, ok := splitKey(s)
	return ok
}

// splitKey splits "key: rest" (or "key:", or "key: # comment") into a plain key of the characters
// Kubernetes field and label keys use and the text of its value; ok is false for anything else.
func splitKey(s string) (key, rest string, ok bool) {
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		return quotedKey(s)
	}
	i := strings.Index(s, ": ")
	switch {
	case i >= 0:
		key, rest = s[:i], strings.TrimLeft(s[i+2:], " ")
	case strings.HasSuffix(s, ":"):
		key = s[:len(s)-1]
	default:
		return "", "", false
	}
	if key == "" || len(key) > 512 || !plainKeyStart(key[0]) { // yaml/v2 refuses keys over 1024 bytes
		return "", "", false
	}
	for j := 1; j < len(key); j++ {
		if c := key[j]; !plainKeyStart(c) && c != '.' && c != '/' && c != '-' {
			return "", "", false
		}
	}
	if strings.HasPrefix(rest, "#") {
		rest = ""
	}
	return key, rest, true
}

// quotedKey splits a key quoted without escapes or inner quotes ("helm.sh/hook": ...).
func quotedKey(s string) (key, rest string, ok bool) {
	q := s[0]
	end := strings.IndexByte(s[1:], q)
	if end < 0 || end > 512 {
		return "", "", false
	}
	key, after := s[1:1+end], s[2+end:]
	if strings.IndexByte(key, '\\') >= 0 || strings.HasPrefix(after, string(q)) {
		return "", "", false
	}
	switch {
	case after == ":":
	case strings.HasPrefix(after, ": "):
		rest = strings.TrimLeft(after[2:], " ")
	default:
		return "", "", false
	}
	if strings.HasPrefix(rest, "#") {
		rest = ""
	}
	return key, rest, true
}

func plainKeyStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// scalar reads a scalar that ends on its line: plain, or quoted without escapes; ok is false for anything
// else (and for the nulls, which a kept string would read as empty).
func scalar(s string) (string, bool) {
	switch s[0] {
	case '"', '\'':
		q := s[0]
		end := strings.IndexByte(s[1:], q)
		if end < 0 {
			return "", false
		}
		v, after := s[1:1+end], strings.TrimLeft(s[2+end:], " ")
		if strings.IndexByte(v, '\\') >= 0 || (after != "" && !strings.HasPrefix(after, "#")) {
			return "", false // an escape, a quote doubled ('') or something after the closing quote
		}
		if after != "" && len(s[2+end:]) == len(after) {
			return "", false // "#" right after the quote is not a comment
		}
		return v, true
	case '-', '?', ':':
		if len(s) == 1 || s[1] == ' ' {
			return "", false // an indicator ("-c" is a plain scalar, "- c" is not)
		}
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		return "", false
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, " ")
	if strings.Contains(s, ": ") || strings.HasSuffix(s, ":") {
		return "", false
	}
	return s, true
}

func isNull(v string) bool {
	switch v {
	case "~", "null", "Null", "NULL":
		return true
	}
	return false
}

// blockHeader reports whether s is a block scalar's header: "|" or ">", then an optional chomping and
// indentation indicator, then nothing or a comment.
func blockHeader(s string) bool {
	h := s[1:]
	if i := strings.Index(h, " #"); i >= 0 {
		h = h[:i]
	}
	h = strings.TrimRight(h, " ")
	digits, chomps := 0, 0
	for _, c := range h {
		switch {
		case c == '-' || c == '+':
			chomps++
		case c >= '1' && c <= '9':
			digits++
		default:
			return false
		}
	}
	return digits == 0 && chomps <= 1 // an explicit indentation is left to yaml/v2
}

// printable reports whether every character of s is one YAML allows in a stream, the line breaks other
// than "\n" and "\r" excepted (a "\r" that does not end a line, a tab or a byte order mark is refused
// later).
func printable(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '\n' && c != '\r' && (c < 0x20 || c > 0x7e) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		// (NEL, LS and PS are printable, but yaml/v2 breaks lines at them)
		if r == utf8.RuneError || r == 0x2028 || r == 0x2029 || !((r >= 0xa0 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd && r != 0xfeff) || r >= 0x10000) {
			return false
		}
		i += n
	}
	return true
}

// flowSequence reports whether s is a flow sequence that ends on its line ("[a, "b", [c]]", then nothing
// or a comment) of plain scalars without ":" or "#" and quoted scalars without escapes or inner quotes:
// what charts write for command, args and RBAC verbs.
func flowSequence(s string) bool {
	end, ok := flowSeqAt(s, 0, 0)
	if !ok {
		return false
	}
	after := s[end:]
	t := strings.TrimLeft(after, " ")
	return t == "" || (t[0] == '#' && len(t) < len(after))
}

// flowSeqAt reads the flow sequence that starts at s[i] ("["); it returns the index after its "]".
func flowSeqAt(s string, i, depth int) (int, bool) {
	if depth > 8 {
		return 0, false
	}
	i++ // "["
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	skip()
	if i < len(s) && s[i] == ']' {
		return i + 1, true
	}
	for {
		skip()
		if i >= len(s) {
			return 0, false
		}
		switch c := s[i]; c {
		case '[':
			end, ok := flowSeqAt(s, i, depth+1)
			if !ok {
				return 0, false
			}
			i = end
		case '"', '\'':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return 0, false
			}
			if v := s[i+1 : i+1+end]; strings.IndexByte(v, '\\') >= 0 {
				return 0, false
			}
			i += end + 2
			if i < len(s) && s[i] == c {
				return 0, false // a doubled quote
			}
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(",[]{}", rune(s[j])) {
				j++
			}
			item := strings.TrimRight(s[i:j], " ")
			if item == "" || strings.ContainsAny(item, ":#\"'") {
				return 0, false
			}
			if _, ok := scalar(item); !ok {
				return 0, false
			}
			i = j
		}
		skip()
		if i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case ']':
			return i + 1, true
		case ',':
			i++
			skip()
			if i < len(s) && s[i] == ']' {
				return 0, false // a trailing comma: left to yaml/v2
			}
		default:
			return 0, false
		}
	}
}
