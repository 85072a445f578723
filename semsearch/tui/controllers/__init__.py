"""The search screen's logic, one controller per thing it owns: opening the collection and
its models (:mod:`.loading`), questions and their results (:mod:`.searching`), the selected
result (:mod:`.selection`), likes and dislikes (:mod:`.taste`) and ingests
(:mod:`.ingesting`). The state they share lives on the screen, as reactives."""
