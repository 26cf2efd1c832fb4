package bridge

import "encoding/json"

// Hit is one matching document: its stored fields, a snippet and the
// score. ID, Path and Title repeat the fields of those names when they are
// stored strings ("" otherwise).
type Hit struct {
	ID, Path, Title string
	// Fields holds every stored field asked for, by name: a field with
	// one value gives the value, with several an array.
	Fields  map[string]any
	Snippet *Snippet
	Score   float32
}

// Snippet is a one-line excerpt of a stored text field around the matched
// terms; Highlighted are the terms' byte ranges in Text.
type Snippet struct {
	Field       string   `json:"field"`
	Text        string   `json:"text"`
	Highlighted [][2]int `json:"highlighted"`
}

// UnmarshalJSON reads a hit as the library writes it: stored fields, then
// "snippet" and "score", in one object.
func (h *Hit) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*h = Hit{Fields: map[string]any{}}
	for k, v := range raw {
		var err error
		switch k {
		case "score":
			err = json.Unmarshal(v, &h.Score)
		case "snippet":
			err = json.Unmarshal(v, &h.Snippet)
		default:
			var x any
			err = json.Unmarshal(v, &x)
			h.Fields[k] = x
		}
		if err != nil {
			return err
		}
	}
	str := func(k string) string { s, _ := h.Fields[k].(string); return s }
	h.ID, h.Path, h.Title = str("id"), str("path"), str("title")
	return nil
}

// MarshalJSON writes the hit back as one object: the stored fields,
// "snippet" and "score".
func (h Hit) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(h.Fields)+2)
	for k, v := range h.Fields {
		m[k] = v
	}
	if h.Snippet != nil {
		m["snippet"] = h.Snippet
	}
	m["score"] = h.Score
	return json.Marshal(m)
}
