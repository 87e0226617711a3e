package controlplane

import (
	"fmt"
	"net/http"

	"coffer/internal/auth"
	"coffer/internal/store"
)

// authorizeTagged checks codeartifact:<op> on resource for a request that
// attaches tags: they are its aws:RequestTag/<key>, their keys aws:TagKeys.
func (h *handler) authorizeTagged(r *http.Request, op, resource string, tags []store.Tag) error {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return h.authz.Authorize(auth.WithRequestTags(r.Context(), m), "codeartifact:"+op, resource)
}

// tagOutput is the model's Tag in a response; both members are required.
type tagOutput struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// resourceARN reads resourceArn*. Whether it names a taggable resource is
// the service's call (it answers ResourceNotFound otherwise).
func (in *input) resourceARN() string {
	return in.str("resourceArn", "resourceArn", specARN, true)
}

func (h *handler) tagResource(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	arn := in.resourceARN()
	var body struct {
		Tags []tag `json:"tags"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	if body.Tags == nil {
		in.v.missing("tags")
	}
	tags := in.tags("tags", body.Tags)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorizeTagged(r, "TagResource", arn, tags); err != nil {
		return err
	}
	if err := h.svc.TagResource(r.Context(), arn, tags); err != nil {
		return err
	}
	return writeJSON(w, struct{}{})
}

func (h *handler) untagResource(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	arn := in.resourceARN()
	var body struct {
		TagKeys []string `json:"tagKeys"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	if body.TagKeys == nil {
		in.v.missing("tagKeys")
	}
	in.v.listMax("tagKeys", body.TagKeys, maxTags)
	for i, k := range body.TagKeys {
		in.v.str(fmt.Sprintf("tagKeys.%d.member", i+1), k, specTagKey)
	}
	if err := in.done(); err != nil {
		return err
	}
	// AWS sets aws:TagKeys to the keys being removed.
	if err := h.authz.Authorize(auth.WithTagKeys(r.Context(), body.TagKeys), "codeartifact:UntagResource", arn); err != nil {
		return err
	}
	if err := h.svc.UntagResource(r.Context(), arn, body.TagKeys); err != nil {
		return err
	}
	return writeJSON(w, struct{}{})
}

func (h *handler) listTagsForResource(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	arn := in.resourceARN()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListTagsForResource", arn); err != nil {
		return err
	}
	tags, err := h.svc.ListTagsForResource(r.Context(), arn)
	if err != nil {
		return err
	}
	out := struct {
		Tags []tagOutput `json:"tags"`
	}{Tags: make([]tagOutput, 0, len(tags))}
	for _, t := range tags {
		out.Tags = append(out.Tags, tagOutput(t))
	}
	return writeJSON(w, out)
}
