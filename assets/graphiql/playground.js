// usergraph's GraphiQL page: queries and mutations over HTTP to the endpoint, subscriptions over
// WebSocket (graphql-ws) to the endpoint's /ws, both with the headers of the header editor (a
// header left empty is not sent). Served by the server itself, like the files it uses.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var here = window.location;
  var endpoint = new URL(root.dataset.endpoint, here.origin).toString();
  var socket = new URL(root.dataset.subscriptions, here.origin);
  socket.protocol = here.protocol === 'https:' ? 'wss:' : 'ws:';

  var defaultQuery = [
    '# Welcome to usergraph.',
    '#',
    '# Send a token in the Headers tab below, either as',
    '#   { "PRIVATE-TOKEN": "glpat-..." }',
    '# or as',
    '#   { "Authorization": "Bearer glpat-..." }',
    '# (a header left empty is not sent). Without one you are anonymous: you see public',
    '# profiles only. Subscriptions run here too, over ' + socket.pathname + ', with the same headers.',
    '#',
    '# Run a query with Ctrl-Enter (Cmd-Enter on a Mac).',
    '',
    'query {',
    '  currentUser {',
    '    id',
    '    username',
    '    name',
    '  }',
    '}',
    ''
  ].join('\n');

  // Only the headers with a value: `{"PRIVATE-TOKEN": ""}` is the editor's hint, not a token.
  function given(headers) {
    var out = {};
    Object.keys(headers || {}).forEach(function (k) {
      var v = headers[k];
      if (v !== '' && v !== null && v !== undefined) {
        out[k] = String(v);
      }
    });
    return out;
  }

  // One fetcher per set of headers: a WebSocket authenticates once, when it opens, so new
  // headers need a new connection.
  var current = { key: null, fetcher: null, client: null };
  function fetcherFor(headers) {
    var key = JSON.stringify(headers);
    if (current.key !== key) {
      if (current.client) {
        current.client.dispose();
      }
      var client = graphqlWs.createClient({ url: socket.toString(), connectionParams: headers, lazy: true });
      current = {
        key: key,
        client: client,
        fetcher: GraphiQL.createFetcher({ url: endpoint, headers: headers, wsClient: client })
      };
    }
    return current.fetcher;
  }

  function fetcher(params, options) {
    var headers = given(options && options.headers);
    return fetcherFor(headers)(params, Object.assign({}, options, { headers: headers }));
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: '{\n  "PRIVATE-TOKEN": ""\n}',
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false
    })
  );
})();
