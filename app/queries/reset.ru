# Empty the store (`dfc-hub serve --reset`): every graph but a remote store's write lock, which
# the resetting process holds while this runs.
DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g != <urn:x-dfc-hub:write-lock>) } ;
DELETE WHERE { ?s ?p ?o }
