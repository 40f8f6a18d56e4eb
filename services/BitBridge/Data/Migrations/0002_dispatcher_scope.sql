-- The intake finds the dispatchers whose binding contains an event through their scope, as templates_scope does for
-- templates (Events/EventConsumer.cs): a binding left out is '' here.
create index dispatchers_scope on dispatchers ((coalesce(operator_id, '')), (coalesce(brand_id, ''))) where enabled;
