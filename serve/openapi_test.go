package serve

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openAPIDoc is the part of the OpenAPI document the check reads.
type openAPIDoc struct {
	OpenAPI    string                          `json:"openapi"`
	Paths      map[string]map[string]openAPIOp `json:"paths"`
	Components struct {
		Parameters map[string]openAPIParam `json:"parameters"`
	} `json:"components"`
}

type openAPIOp struct {
	OperationID string                     `json:"operationId"`
	Parameters  []openAPIParam             `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Security    []map[string][]string      `json:"security"`
}

type openAPIParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

// TestOpenAPIMatchesRoutes checks the document against the route table,
// both ways: every route is documented with exactly its path and query
// parameters, and every documented operation is a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc openAPIDoc
	require.NoError(t, json.Unmarshal(openAPIDocument, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."), "an OpenAPI 3 document")

	documented := map[string]openAPIOp{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = op
		}
	}
	routes := (*Server)(nil).routes()
	seen := map[string]bool{}
	pathParam := regexp.MustCompile(`\{([a-z_]+)\}`)
	for _, rt := range routes {
		key := rt.method + " " + strings.ReplaceAll(rt.path, "{$}", "")
		seen[key] = true
		op, ok := documented[key]
		if !assert.True(t, ok, "route %s is not in openapi.json", key) {
			continue
		}
		assert.NotEmpty(t, op.OperationID, key)
		assert.NotEmpty(t, op.Responses, key)
		var query, inPath []string
		for _, p := range op.Parameters {
			if p.Ref != "" {
				p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			switch p.In {
			case "query":
				query = append(query, p.Name)
			case "path":
				inPath = append(inPath, p.Name)
			}
		}
		var wantPath []string
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			wantPath = append(wantPath, m[1])
		}
		assert.ElementsMatch(t, wantPath, inPath, "path parameters of %s", key)
		assert.ElementsMatch(t, rt.query, query, "query parameters of %s", key)
		assert.Equal(t, securityOf(rt.access), op.Security, "security of %s", key)
		if rt.limit != noLimit {
			assert.Contains(t, op.Responses, "503", "%s is bounded in number, so it documents the 503 beyond", key)
		}
	}
	for key := range documented {
		assert.True(t, seen[key], "openapi.json documents %s, which is not a route", key)
	}
	assert.Equal(t, len(routes), len(documented))
}

// securityOf is how the document states a route's access: no token, a
// token optionally (reads need one only with a token file; the health
// check tells more to a reader), or a token.
func securityOf(a access) []map[string][]string {
	switch a {
	case readAccess, statusAccess:
		return []map[string][]string{{"bearerAuth": {}}, {}}
	case writeAccess:
		return []map[string][]string{{"bearerAuth": {}}}
	}
	return []map[string][]string{}
}
